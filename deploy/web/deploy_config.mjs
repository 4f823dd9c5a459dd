// Reads an exported model directory's deploy.yaml with the rules of pphumanseg_deploy's
// deploy_config.py and preprocess.py, and turns it into a Preprocess (preprocess.mjs).
// Every error names deploy.yaml and the field, as the Python package does.
import { load } from "./vendor/js-yaml.mjs";
import { Preprocess } from "./preprocess.mjs";

export const OUTPUT_OPS = ["argmax", "softmax", "foreground", "none"];
const SOURCE = "deploy.yaml";

export class DeployConfigError extends Error {}

function fail(message) {
  throw new DeployConfigError(`${SOURCE}: ${message}`);
}

function isMapping(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function parseInputShape(deploy) {
  const shape = deploy.input_shape;
  if (shape === undefined || shape === null) return null;
  if (!Array.isArray(shape) || shape.length !== 4) fail("field 'Deploy.input_shape' must be [N, C, H, W]");
  // PaddleSeg writes unknown dimensions as null or -1.
  return shape.map((dim) => (Number.isInteger(dim) && dim > 0 ? dim : null));
}

/**
 * The page's view of deploy.yaml.
 * @param {string} text The file's contents.
 * @returns {{preprocess: Preprocess, outputOp: string|null, fixedSize: number[]|null}}
 */
export function parseDeployConfig(text) {
  let document;
  try {
    document = load(text);
  } catch (error) {
    const where = error.mark ? ` line ${error.mark.line + 1}` : "";
    throw new DeployConfigError(`${SOURCE}${where}: ${error.reason || "malformed YAML"}`);
  }
  const deploy = isMapping(document) ? document.Deploy : undefined;
  if (!isMapping(deploy)) fail("missing the top-level 'Deploy' mapping");
  const transforms = deploy.transforms;
  if (transforms === undefined) fail("missing field 'Deploy.transforms'");
  if (!Array.isArray(transforms) || !transforms.every((item) => isMapping(item) && "type" in item)) {
    fail("field 'Deploy.transforms' must be a list of mappings with a 'type'");
  }
  const outputOp = deploy.output_op ?? null;
  if (outputOp !== null && !OUTPUT_OPS.includes(outputOp)) {
    fail(`field 'Deploy.output_op' is ${JSON.stringify(outputOp)}, expected one of ${OUTPUT_OPS.join(", ")}`);
  }
  const shape = parseInputShape(deploy);
  const fixedSize = shape && shape[2] !== null && shape[3] !== null ? [shape[3], shape[2]] : null;
  return { preprocess: new Preprocess(transforms, fixedSize, SOURCE), outputOp, fixedSize };
}
