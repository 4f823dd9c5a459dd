// Runs model.onnx with onnxruntime-web and reads the person probability from its first output
// with the rules of pphumanseg_deploy.predictor.foreground_probability.
import * as ort from "./ort/ort.all.min.mjs";

const FOREGROUND_CLASS = 1;
export const BACKENDS = ["webgpu", "webgl", "wasm"];
// "auto" takes the first of these that loads and runs the model. WebGL is left to an explicit
// choice: onnxruntime-web's WebGL backend is deprecated and covers fewer operators.
const AUTO_ORDER = ["webgpu", "wasm"];
const INTEGER_TYPES = ["int64", "int32", "int16", "int8", "uint64", "uint32", "uint16", "uint8"];

export class ModelError extends Error {}

function copyPlane(values, start, area) {
  const plane = new Float32Array(area);
  for (let i = 0; i < area; i++) plane[i] = Number(values[start + i]);
  return plane;
}

function classPlane(values, area) {
  const plane = new Float32Array(area);
  for (let i = 0; i < area; i++) plane[i] = Number(values[i]) === FOREGROUND_CLASS ? 1 : 0;
  return plane;
}

// One float channel of an export without output_op: class ids (whole numbers) or a probability
// (fractions in [0, 1]); a 0/1 map means the same either way.
function oneChannelForeground(values, area) {
  let whole = true;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < area; i++) {
    const v = values[i];
    if (v !== Math.round(v)) whole = false;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (whole) return classPlane(values, area);
  if (min >= 0 && max <= 1) return copyPlane(values, 0, area);
  throw new ModelError(`model output holds neither class ids nor probabilities (one channel, values ${min} to ${max})`);
}

function looksLikeProbabilities(values, channels, area) {
  for (let i = 0; i < area; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) {
      const v = values[c * area + i];
      if (v < 0 || v > 1) return false;
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-3 + 1e-5) return false;
  }
  return true;
}

function softmaxForeground(values, channels, area) {
  const plane = new Float32Array(area);
  for (let i = 0; i < area; i++) {
    if (channels === 2) {
      // softmax over two classes is a sigmoid of the difference; tanh never overflows.
      plane[i] = 0.5 + 0.5 * Math.tanh(0.5 * (values[area + i] - values[i]));
      continue;
    }
    let max = -Infinity;
    for (let c = 0; c < channels; c++) max = Math.max(max, values[c * area + i]);
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += Math.exp(values[c * area + i] - max);
    plane[i] = Math.exp(values[FOREGROUND_CLASS * area + i] - max) / sum;
  }
  return plane;
}

/**
 * The person probability of one output tensor (batch of one): {data: Float32Array, width, height}.
 * @param {ort.Tensor} tensor The first output of the network.
 * @param {string|null} outputOp deploy.yaml's output_op (null: decided from the values).
 */
export function foregroundProbability(tensor, outputOp) {
  const { dims, data: values } = tensor;
  const integer = INTEGER_TYPES.includes(tensor.type);
  const oneChannel = dims.length === 3 || (dims.length === 4 && dims[1] === 1);
  const [height, width] = dims.slice(-2);
  const area = width * height;
  const shown = `${tensor.type} [${dims.join(", ")}]`;
  let data;
  if (outputOp === "foreground") {
    if (integer || dims.length !== 4 || dims[0] !== 1 || dims[1] !== 1) {
      throw new ModelError(`output_op foreground: expected a float [1, 1, H, W] probability, got ${shown}`);
    }
    data = copyPlane(values, 0, area);
  } else if (oneChannel && (outputOp === "argmax" || integer)) {
    data = classPlane(values, area);
  } else if (oneChannel && outputOp === null) {
    data = oneChannelForeground(values, area);
  } else if (integer || outputOp === "argmax" || dims.length !== 4 || dims[1] <= FOREGROUND_CLASS) {
    const expected = outputOp === "argmax" ? "class ids [1, H, W]" : "scores [1, C>=2, H, W]";
    throw new ModelError(`model output ${shown} is not ${expected} (output_op ${outputOp})`);
  } else if (outputOp === "softmax" || (outputOp === null && looksLikeProbabilities(values, dims[1], area))) {
    data = copyPlane(values, FOREGROUND_CLASS * area, area);
  } else {
    data = softmaxForeground(values, dims[1], area);
  }
  return { data, width, height };
}

async function available(backend) {
  if (backend === "webgpu") return Boolean(navigator.gpu && (await navigator.gpu.requestAdapter()));
  if (backend === "webgl") return Boolean(document.createElement("canvas").getContext("webgl2"));
  return true;
}

export function wasmThreads() {
  // Threads need SharedArrayBuffer, which browsers give only to cross-origin isolated pages.
  return globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
}

export class Segmenter {
  /**
   * Loads the model with the first backend of `choice` ("auto" or one of BACKENDS) that can run it.
   * @param {ArrayBuffer} modelBytes model.onnx.
   * @param {{preprocess, outputOp}} config From parseDeployConfig.
   * @param {string} choice "auto", "webgpu", "webgl" or "wasm".
   * @param {number[]} probeSize [width, height] of the frame used to check the backend runs.
   */
  static async create(modelBytes, config, choice, probeSize) {
    ort.env.wasm.wasmPaths = new URL("./ort/", import.meta.url).href;
    ort.env.wasm.numThreads = wasmThreads();
    const candidates = choice === "auto" ? AUTO_ORDER : [choice];
    const failures = [];
    for (const backend of candidates) {
      if (!(await available(backend))) {
        failures.push(`${backend}: not available in this browser`);
        continue;
      }
      try {
        const session = await ort.InferenceSession.create(new Uint8Array(modelBytes), {
          executionProviders: [backend], graphOptimizationLevel: "all", logSeverityLevel: 3 });
        const segmenter = new Segmenter(session, config, backend);
        const [width, height] = probeSize;
        await segmenter.probability(new ImageData(width, height));
        return segmenter;
      } catch (error) {
        if (error instanceof ModelError) throw error;
        failures.push(`${backend}: ${error.message || error}`);
      }
    }
    throw new ModelError(`onnxruntime-web cannot run model.onnx (${failures.join("; ")})`);
  }

  constructor(session, config, backend) {
    this.session = session;
    this.config = config;
    this.backend = backend;
    this.threads = backend === "wasm" ? ort.env.wasm.numThreads : null;
    this.inputName = session.inputNames[0];
    this.outputName = session.outputNames[0];
    // A session runs one input at a time: calls wait for the one before.
    this.pending = Promise.resolve();
  }

  /**
   * The person probability of an RGBA ImageData at the network's resolution, with timings.
   * @returns {Promise<{data: Float32Array, width, height, preprocessMs, modelMs}>}
   */
  probability(image) {
    const result = this.pending.then(() => this.#run(image));
    this.pending = result.catch(() => {});
    return result;
  }

  async #run(image) {
    const start = performance.now();
    const input = this.config.preprocess.tensorData(image);
    const tensor = new ort.Tensor("float32", input.data, [1, 3, input.height, input.width]);
    const modelStart = performance.now();
    const outputs = await this.session.run({ [this.inputName]: tensor });
    const modelMs = performance.now() - modelStart;
    const probability = foregroundProbability(outputs[this.outputName], this.config.outputOp);
    return { ...probability, preprocessMs: modelStart - start, modelMs };
  }
}
