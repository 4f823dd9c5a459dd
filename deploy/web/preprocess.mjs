// The pre-processing of pphumanseg_deploy/preprocess.py for the browser: the transforms of
// deploy.yaml (Resize, ResizeByLong, ResizeByShort, Normalize) turn an RGBA ImageData into the
// network's 1x3xhxw float32 input. Resizing is done here in JavaScript on the 8-bit image with
// OpenCV's rules (INTER_LINEAR: pixel centres aligned, edges clamped; INTER_NEAREST: floor), so
// the page feeds the network what Python does, up to rounding; the canvas's own scaling would not.

const PAGE_INTERPOLATIONS = ["LINEAR", "NEAREST"];
const PYTHON_INTERPOLATIONS = ["NEAREST", "LINEAR", "CUBIC", "AREA", "LANCZOS4"];

class TransformError extends Error {}

// Python's round(): halves go to the even neighbour.
function roundHalfEven(value) {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

function ceilTo(value, divisor) {
  return Math.ceil(value / divisor) * divisor;
}

function takeOptions(options, allowed, required = []) {
  const unexpected = Object.keys(options).filter((key) => !allowed.includes(key));
  if (unexpected.length) throw new TransformError(`unexpected keys ${JSON.stringify(unexpected.sort())}`);
  for (const key of required) {
    if (!(key in options)) throw new TransformError(`missing key '${key}'`);
  }
  return options;
}

function positiveNumber(value, key) {
  if (typeof value !== "number" || !(value > 0)) throw new TransformError(`${key} must be a positive number`);
  return value;
}

class Resize {
  constructor(options) {
    const { target_size: targetSize, keep_ratio: keepRatio = false, size_divisor: sizeDivisor = null,
      interp = "LINEAR" } = takeOptions(options, ["target_size", "keep_ratio", "size_divisor", "interp"],
      ["target_size"]);
    if (!Array.isArray(targetSize) || targetSize.length !== 2 || !targetSize.every((v) => Number.isInteger(v) && v > 0)) {
      throw new TransformError("target_size must be [width, height]");
    }
    if (!PYTHON_INTERPOLATIONS.includes(interp)) {
      throw new TransformError(`interp must be one of ${PYTHON_INTERPOLATIONS.join(", ")}`);
    }
    if (!PAGE_INTERPOLATIONS.includes(interp)) {
      throw new TransformError(`interp ${interp} is not supported by the browser page (${PAGE_INTERPOLATIONS.join(", ")})`);
    }
    this.targetSize = targetSize;
    this.keepRatio = Boolean(keepRatio);
    this.sizeDivisor = sizeDivisor;
    this.interp = interp;
  }

  sizeFor(width, height) {
    let size = this.targetSize;
    if (this.keepRatio) {
      const scale = Math.min(Math.max(...this.targetSize) / Math.max(width, height),
        Math.min(...this.targetSize) / Math.min(width, height));
      size = [roundHalfEven(width * scale), roundHalfEven(height * scale)];
    }
    if (this.sizeDivisor) size = size.map((v) => ceilTo(v, this.sizeDivisor));
    return size;
  }
}

class ResizeByLong {
  constructor(options) {
    this.longSize = Math.trunc(positiveNumber(takeOptions(options, ["long_size"], ["long_size"]).long_size, "long_size"));
    this.interp = "LINEAR";
  }

  sizeFor(width, height) {
    const scale = this.longSize / Math.max(width, height);
    return [roundHalfEven(width * scale), roundHalfEven(height * scale)];
  }
}

class ResizeByShort {
  constructor(options) {
    const { short_size: shortSize, max_size: maxSize = null } = takeOptions(
      options, ["short_size", "max_size"], ["short_size"]);
    this.shortSize = Math.trunc(positiveNumber(shortSize, "short_size"));
    this.maxSize = maxSize;
    this.interp = "LINEAR";
  }

  sizeFor(width, height) {
    const long = Math.max(width, height);
    const short = Math.min(width, height);
    let shortSize = this.shortSize;
    if (this.maxSize !== null && (shortSize * long) / short > this.maxSize) {
      shortSize = Math.trunc((this.maxSize / long) * short);
    }
    const scale = shortSize / short;
    return [roundHalfEven(width * scale), roundHalfEven(height * scale)];
  }
}

const RESIZES = { Resize, ResizeByLong, ResizeByShort };

function threeValues(value, key) {
  const values = Array.isArray(value) ? value : [value];
  if (!values.every((v) => typeof v === "number") || (values.length !== 1 && values.length !== 3)) {
    throw new TransformError(`${key} must be a number or a list of 3 numbers`);
  }
  return values.length === 1 ? [values[0], values[0], values[0]] : values;
}

// Source pixel index and weight per destination pixel along one axis (OpenCV INTER_LINEAR).
function linearTaps(sourceLength, length) {
  const scale = sourceLength / length;
  const first = new Int32Array(length);
  const second = new Int32Array(length);
  const weight = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const position = (i + 0.5) * scale - 0.5;
    let index = Math.floor(position);
    let fraction = position - index;
    if (index < 0) {
      index = 0;
      fraction = 0;
    }
    if (index >= sourceLength - 1) {
      index = sourceLength - 1;
      fraction = 0;
    }
    first[i] = index;
    second[i] = Math.min(index + 1, sourceLength - 1);
    weight[i] = fraction;
  }
  return { first, second, weight };
}

function nearestTaps(sourceLength, length) {
  const scale = sourceLength / length;
  const first = new Int32Array(length);
  for (let i = 0; i < length; i++) first[i] = Math.min(Math.floor(i * scale), sourceLength - 1);
  return { first, second: first, weight: new Float32Array(length) };
}

/** Resizes RGBA pixels (Uint8ClampedArray) from (width, height) to (newWidth, newHeight). */
export function resizeRGBA(pixels, width, height, newWidth, newHeight, interp = "LINEAR") {
  const taps = interp === "NEAREST" ? nearestTaps : linearTaps;
  const xs = taps(width, newWidth);
  const ys = taps(height, newHeight);
  const out = new Uint8ClampedArray(newWidth * newHeight * 4);
  for (let y = 0; y < newHeight; y++) {
    const row0 = ys.first[y] * width * 4;
    const row1 = ys.second[y] * width * 4;
    const wy = ys.weight[y];
    for (let x = 0; x < newWidth; x++) {
      const a = xs.first[x] * 4;
      const b = xs.second[x] * 4;
      const wx = xs.weight[x];
      const o = (y * newWidth + x) * 4;
      for (let c = 0; c < 3; c++) {
        const top = pixels[row0 + a + c] + (pixels[row0 + b + c] - pixels[row0 + a + c]) * wx;
        const bottom = pixels[row1 + a + c] + (pixels[row1 + b + c] - pixels[row1 + a + c]) * wx;
        out[o + c] = Math.round(top + (bottom - top) * wy);
      }
      out[o + 3] = 255;
    }
  }
  return out;
}

export class Preprocess {
  /**
   * @param {object[]} transforms The Deploy.transforms list of deploy.yaml.
   * @param {number[]|null} fixedSize [width, height] the exported graph requires, resized to last.
   * @param {string} source Named in error messages.
   */
  constructor(transforms, fixedSize, source) {
    this.resizes = [];
    // Without Normalize PaddleSeg feeds the raw 0-255 values.
    this.scale = [1, 1, 1];
    this.offset = [0, 0, 0];
    transforms.forEach((spec, index) => {
      const { type: name, ...options } = spec;
      try {
        if (name in RESIZES) {
          this.resizes.push(new RESIZES[name](options));
        } else if (name === "Normalize") {
          const { mean = 0.5, std = 0.5 } = takeOptions(options, ["mean", "std"]);
          const means = threeValues(mean, "mean");
          const stds = threeValues(std, "std");
          if (stds.includes(0)) throw new TransformError("std must not contain 0");
          // (x / 255 - mean) / std folded into one multiply-add per pixel.
          this.scale = stds.map((s) => 1 / (255 * s));
          this.offset = means.map((m, c) => -m / stds[c]);
        } else {
          throw new TransformError(
            `transform not supported at inference (supported: ${[...Object.keys(RESIZES), "Normalize"].join(", ")})`);
        }
      } catch (error) {
        if (!(error instanceof TransformError)) throw error;
        throw new Error(`${source}: Deploy.transforms[${index}] (${name}): ${error.message}`);
      }
    });
    this.fixedSize = fixedSize;
  }

  /** [width, height] of the network input for an image of the given size. */
  inputSize(width, height) {
    let size = [width, height];
    for (const resize of this.resizes) size = resize.sizeFor(...size);
    return this.fixedSize || size;
  }

  /** The network input for an RGBA ImageData: {data: Float32Array (1x3xhxw), width, height}. */
  tensorData(image) {
    let pixels = image.data;
    let width = image.width;
    let height = image.height;
    const steps = this.resizes.map((resize) => resize.interp);
    const sizes = this.resizes.map((resize) => {
      const size = resize.sizeFor(width, height);
      [width, height] = size;
      return size;
    });
    if (this.fixedSize && (this.fixedSize[0] !== width || this.fixedSize[1] !== height)) {
      sizes.push(this.fixedSize);
      steps.push("LINEAR");
    }
    [width, height] = [image.width, image.height];
    sizes.forEach(([newWidth, newHeight], i) => {
      if (newWidth !== width || newHeight !== height) {
        pixels = resizeRGBA(pixels, width, height, newWidth, newHeight, steps[i]);
        [width, height] = [newWidth, newHeight];
      }
    });
    const area = width * height;
    const data = new Float32Array(3 * area);
    for (let c = 0; c < 3; c++) {
      const scale = this.scale[c];
      const offset = this.offset[c];
      const plane = c * area;
      for (let i = 0; i < area; i++) data[plane + i] = pixels[i * 4 + c] * scale + offset;
    }
    return { data, width, height };
  }
}
