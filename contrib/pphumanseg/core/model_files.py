"""What checkpoint and exported-model directories hold: file names, and the output ops an
exported graph can end in.

``pphumanseg_deploy.deploy_config`` keeps its own ``DEPLOY_FILE`` and ``OUTPUT_OPS`` (the runtime
package imports nothing of pphumanseg); a test checks that they agree with these.
"""
# A training checkpoint directory (iter_N/, best_model/).
CHECKPOINT_WEIGHTS_FILE = "model.pdparams"
CHECKPOINT_OPTIMIZER_FILE = "model.pdopt"
CHECKPOINT_STATE_FILE = "train_state.json"

# An exported model directory (pphumanseg export).
DEPLOY_FILE = "deploy.yaml"
EXPORTED_GRAPH_FILE = "model.pdmodel"
EXPORTED_PARAMS_FILE = "model.pdiparams"
ONNX_FILE = "model.onnx"

# argmax: int32 class ids [N, H, W]; softmax: float32 [N, C, H, W]; foreground (two classes):
# float32 probability of class 1 [N, 1, H, W]; none: the logits.
OUTPUT_OPS = ("argmax", "softmax", "foreground", "none")
