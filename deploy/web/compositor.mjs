// Soft-alpha compositing at the frame's resolution: the person probability (network resolution)
// becomes the alpha of a small canvas, the browser upsamples it bilinearly to the frame, and the
// frame is kept where the alpha says, over a blurred, coloured or image background.

function sizeCanvas(canvas, width, height) {
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
}

// Scale-to-cover and centre, as pphumanseg_deploy.compositing.cover does.
function drawCover(context, image, width, height) {
  const scale = Math.max(width / image.width, height / image.height);
  const drawnWidth = image.width * scale;
  const drawnHeight = image.height * scale;
  context.drawImage(image, (width - drawnWidth) / 2, (height - drawnHeight) / 2, drawnWidth, drawnHeight);
}

export class Compositor {
  /** @param {HTMLCanvasElement} canvas Where the composite is drawn. */
  constructor(canvas) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.mask = document.createElement("canvas");
    this.maskContext = this.mask.getContext("2d");
    this.person = document.createElement("canvas");
    this.personContext = this.person.getContext("2d");
    this.maskImage = null;
  }

  /**
   * @param {HTMLCanvasElement} frame The camera frame.
   * @param {{data: Float32Array, width, height}} probability Person probability.
   * @param {{kind: "blur"|"color"|"image", color: string, image: ImageBitmap|null}} background
   */
  draw(frame, probability, background) {
    const { width, height } = frame;
    sizeCanvas(this.canvas, width, height);
    sizeCanvas(this.person, width, height);
    sizeCanvas(this.mask, probability.width, probability.height);
    if (!this.maskImage || this.maskImage.width !== probability.width || this.maskImage.height !== probability.height) {
      this.maskImage = new ImageData(probability.width, probability.height);
    }
    const alpha = this.maskImage.data;
    for (let i = 0; i < probability.data.length; i++) alpha[i * 4 + 3] = probability.data[i] * 255 + 0.5;
    this.maskContext.putImageData(this.maskImage, 0, 0);

    const person = this.personContext;
    person.globalCompositeOperation = "copy";
    person.imageSmoothingEnabled = true;
    person.imageSmoothingQuality = "low"; // bilinear
    person.drawImage(this.mask, 0, 0, width, height);
    person.globalCompositeOperation = "source-in";
    person.drawImage(frame, 0, 0);

    const context = this.context;
    if (background.kind === "color" || (background.kind === "image" && !background.image)) {
      context.fillStyle = background.color;
      context.fillRect(0, 0, width, height);
    } else if (background.kind === "image") {
      drawCover(context, background.image, width, height);
    } else {
      context.drawImage(frame, 0, 0); // shows at the borders, where the blur fades out
      context.filter = `blur(${Math.max(4, Math.round(width / 40))}px)`;
      context.drawImage(frame, 0, 0);
      context.filter = "none";
    }
    context.drawImage(this.person, 0, 0);
  }
}
