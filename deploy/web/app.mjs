// The page: loads /model/deploy.yaml and /model/model.onnx, opens the camera and replaces the
// background of every new camera frame. Automation reads window.pphumansegStats and calls
// window.pphumansegDebug.probabilityOf(imageData) (the model's person probability of any image,
// without temporal smoothing).
import { parseDeployConfig } from "./deploy_config.mjs";
import { Compositor } from "./compositor.mjs";
import { BACKENDS, Segmenter } from "./segmenter.mjs";

const STATS_WINDOW_MS = 1000;
const PROBE_SIZE = [640, 360];

const elements = Object.fromEntries(
  ["video", "output", "message", "status", "backend", "background", "color", "image", "history", "historyValue"]
    .map((id) => [id, document.getElementById(id)]));

const stats = {
  state: "loading", error: null, backend: null, threads: null, crossOriginIsolated: globalThis.crossOriginIsolated,
  framesProcessed: 0, fps: 0, modelMsMean: 0, video: null, input: null, lastFrame: null, mask: null,
};
window.pphumansegStats = stats;

function showError(message) {
  stats.state = "error";
  stats.error = message;
  elements.message.textContent = message;
  elements.message.hidden = false;
}

function setStatus(text) {
  elements.status.textContent = text;
}

async function fetchModelFile(name, hint) {
  let response;
  try {
    response = await fetch(`model/${name}`);
  } catch (error) {
    throw new Error(`cannot fetch model/${name} (${error.message}); is pphumanseg serve running?`);
  }
  if (!response.ok) throw new Error(`the model directory has no ${name} (HTTP ${response.status}); ${hint}`);
  return response;
}

async function openCamera() {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new Error("this browser gives no camera to this page: open it from http://127.0.0.1 (pphumanseg serve) or over https");
  }
  try {
    return await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 360 } }, audio: false });
  } catch (error) {
    const reasons = {
      NotAllowedError: "camera permission denied: allow the camera for this page and reload",
      NotFoundError: "no camera found: connect one and reload",
      NotReadableError: "the camera is in use by another program or cannot be read",
      OverconstrainedError: "no camera can deliver video",
    };
    throw new Error(reasons[error.name] || `cannot open the camera (${error.name}: ${error.message})`);
  }
}

function maskStatistics(probability) {
  let sum = 0;
  let foreground = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const p of probability.data) {
    sum += p;
    if (p > 0.5) foreground += 1;
    if (p < min) min = p;
    if (p > max) max = p;
  }
  const count = probability.data.length;
  return { width: probability.width, height: probability.height, mean: sum / count, foregroundFraction: foreground / count, min, max };
}

// Exponential smoothing over time at the network's resolution:
// p_t = (1 - h) * raw_t + h * p_(t-1), h = the "history" weight (0 turns it off).
class TemporalSmoother {
  constructor() {
    this.previous = null;
  }

  apply(probability, history) {
    const previous = this.previous;
    if (history > 0 && previous && previous.data.length === probability.data.length) {
      const data = probability.data;
      for (let i = 0; i < data.length; i++) data[i] = (1 - history) * data[i] + history * previous.data[i];
    }
    this.previous = probability;
    return probability;
  }
}

let backgroundImage = null; // the chosen image file, decoded

function backgroundChoice() {
  return { kind: elements.background.value, color: elements.color.value, image: backgroundImage };
}

async function main() {
  const params = new URLSearchParams(location.search);
  const choice = params.get("backend") || "auto";
  elements.backend.value = choice;
  if (params.has("background")) elements.background.value = params.get("background");
  if (params.has("history")) elements.history.value = params.get("history");
  elements.historyValue.textContent = elements.history.value;
  if (choice !== "auto" && !BACKENDS.includes(choice)) throw new Error(`backend=${choice}: expected auto or one of ${BACKENDS.join(", ")}`);

  setStatus("loading the model...");
  const yaml = await (await fetchModelFile("deploy.yaml", "is --model_dir an exported model directory?")).text();
  const config = parseDeployConfig(yaml);
  const modelBytes = await (await fetchModelFile("model.onnx", "export with --formats onnx")).arrayBuffer();
  const segmenter = await Segmenter.create(modelBytes, config, choice, PROBE_SIZE);
  Object.assign(stats, { backend: segmenter.backend, threads: segmenter.threads });
  window.pphumansegDebug = {
    async probabilityOf(image) {
      const probability = await segmenter.probability(image);
      return { width: probability.width, height: probability.height, data: Array.from(probability.data) };
    },
  };
  const threads = segmenter.threads ? `, ${segmenter.threads} thread${segmenter.threads > 1 ? "s" : ""}` : "";
  const backendText = `backend ${segmenter.backend}${threads}${globalThis.crossOriginIsolated ? "" : " (page not cross-origin isolated)"}`;

  setStatus(`${backendText} · opening the camera...`);
  const stream = await openCamera();
  const video = elements.video;
  video.srcObject = stream;
  await video.play();

  const capture = document.createElement("canvas");
  const captureContext = capture.getContext("2d", { willReadFrequently: true });
  const compositor = new Compositor(elements.output);
  const smoother = new TemporalSmoother();
  const recent = [];
  stats.state = "running";

  async function processFrame() {
    const width = video.videoWidth;
    const height = video.videoHeight;
    if (!width || !height) return;
    const start = performance.now();
    if (capture.width !== width || capture.height !== height) [capture.width, capture.height] = [width, height];
    captureContext.drawImage(video, 0, 0);
    const image = captureContext.getImageData(0, 0, width, height);
    const captureMs = performance.now() - start;
    const probability = smoother.apply(await segmenter.probability(image), Number(elements.history.value));
    const composeStart = performance.now();
    compositor.draw(capture, probability, backgroundChoice());
    const end = performance.now();

    recent.push({ time: end, modelMs: probability.modelMs });
    while (recent.length > 2 && end - recent[0].time > STATS_WINDOW_MS) recent.shift();
    const span = end - recent[0].time;
    Object.assign(stats, {
      framesProcessed: stats.framesProcessed + 1,
      fps: span > 0 ? ((recent.length - 1) * 1000) / span : 0,
      modelMsMean: recent.reduce((total, frame) => total + frame.modelMs, 0) / recent.length,
      video: { width, height },
      input: { width: probability.width, height: probability.height },
      lastFrame: { captureMs, preprocessMs: probability.preprocessMs, modelMs: probability.modelMs,
        composeMs: end - composeStart, totalMs: end - start },
      mask: maskStatistics(probability),
    });
    setStatus(`${backendText} · ${width}x${height} → ${probability.width}x${probability.height} · ` +
      `model ${stats.modelMsMean.toFixed(1)} ms · ${stats.fps.toFixed(1)} FPS`);
  }

  const nextFrame = video.requestVideoFrameCallback
    ? (callback) => video.requestVideoFrameCallback(callback)
    : (callback) => requestAnimationFrame(callback);
  const loop = async () => {
    try {
      await processFrame();
      nextFrame(loop);
    } catch (error) {
      showError(`processing a frame failed: ${error.message}`);
    }
  };
  nextFrame(loop);
}

elements.history.addEventListener("input", () => {
  elements.historyValue.textContent = elements.history.value;
});
elements.backend.addEventListener("change", () => {
  const params = new URLSearchParams(location.search);
  params.set("backend", elements.backend.value);
  location.search = params.toString();
});
elements.image.addEventListener("change", async () => {
  const file = elements.image.files[0];
  try {
    backgroundImage = file ? await createImageBitmap(file) : null;
    elements.background.value = "image";
  } catch {
    showError(`${file.name}: not an image the browser can read`);
  }
});

main().catch((error) => showError(error.message || String(error)));
