"""Each fix of pphumanseg.utils.paddle3_compat runs paddleseg 2.8 code that fails on PaddlePaddle 3
without it, and only inside its ``with`` block: importing pphumanseg changes nothing."""
import os
import subprocess
import sys

import cv2
import numpy as np
import paddle
import pytest

import pphumanseg  # noqa: F401  (registrations)
from paddleseg.cvlibs import manager
from paddleseg.datasets import Dataset
from paddleseg.models.losses import CrossEntropyLoss, DiceLoss, MixedLoss
from paddleseg.transforms import Normalize
from paddleseg.utils import metrics
from pphumanseg.utils.paddle3_compat import cross_entropy_on_paddle3, paddleseg_training_on_paddle3

UNTOUCHED = """
import json, sys
import paddle, paddleseg.utils.metrics, paddleseg.core
from paddleseg.models.losses import CrossEntropyLoss
train_module = sys.modules["paddleseg.core.train"]
def snapshot():
    return [id(paddle.multiply), id(paddle.logical_and), id(CrossEntropyLoss._post_process_loss),
            id(train_module.loss_computation), id(paddleseg.utils.metrics.calculate_area)]
before = snapshot()
import pphumanseg, pphumanseg.core.train, pphumanseg.core.export, pphumanseg.core.evaluate
import pphumanseg.metrics.connectivity, pphumanseg.utils.paddle3_compat as compat
after_import = snapshot()
with compat.paddleseg_training_on_paddle3(), compat.legacy_graph_ops():
    inside = snapshot()
json.dump({"before": before, "after_import": after_import, "inside": inside,
           "after_blocks": snapshot()}, sys.stdout)
"""


def test_importing_pphumanseg_patches_nothing_and_blocks_undo_their_patches():
    import json

    result = subprocess.run([sys.executable, "-W", "ignore", "-c", UNTOUCHED], capture_output=True,
                            text=True, check=True)
    ids = json.loads(result.stdout)
    assert ids["after_import"] == ids["before"]
    assert all(a != b for a, b in zip(ids["inside"], ids["before"]))
    assert ids["after_blocks"] == ids["before"]


def test_cross_entropy_loss_runs_and_averages_over_valid_pixels():
    logits = paddle.to_tensor(np.random.default_rng(0).normal(size=(2, 2, 4, 5)).astype("float32"))
    labels = np.random.default_rng(1).integers(0, 2, size=(2, 4, 5))
    labels[0, 0, :] = 255
    with pytest.raises(Exception, match="Type promotion"):
        CrossEntropyLoss()(logits, paddle.to_tensor(labels, dtype="int64"))
    with cross_entropy_on_paddle3():
        loss = CrossEntropyLoss()(logits, paddle.to_tensor(labels, dtype="int64"))

    log_probs = paddle.nn.functional.log_softmax(logits, axis=1).numpy()
    valid = labels != 255
    picked = np.take_along_axis(log_probs, np.where(valid, labels, 0)[:, None], axis=1)[:, 0]
    assert float(loss) == pytest.approx(-(picked * valid).sum() / valid.sum(), rel=1e-5)


def test_cross_entropy_loss_with_class_weights():
    logits = paddle.to_tensor(np.random.default_rng(2).normal(size=(1, 2, 3, 3)).astype("float32"))
    labels = paddle.to_tensor(np.random.default_rng(3).integers(0, 2, size=(1, 3, 3)), dtype="int64")
    with cross_entropy_on_paddle3():
        loss = CrossEntropyLoss(weight=[1.0, 2.0])(logits, labels)
    assert np.isfinite(float(loss))


def test_calculate_area_counts_each_class():
    pred = paddle.to_tensor([[[0, 1, 1], [2, 2, 0]]], dtype="int64")
    label = paddle.to_tensor([[[0, 1, 255], [2, 1, 0]]], dtype="int64")
    with paddleseg_training_on_paddle3():
        intersect, pred_area, label_area = metrics.calculate_area(pred, label, num_classes=3)
    assert intersect.numpy().tolist() == [2, 1, 1]
    assert pred_area.numpy().tolist() == [2, 1, 2]
    assert label_area.numpy().tolist() == [2, 2, 1]


def _tiny_file_list_dataset(root, count=4, size=(32, 24)):
    rng = np.random.default_rng(0)
    lines = []
    for index in range(count):
        image = rng.integers(0, 255, size=(size[1], size[0], 3), dtype=np.uint8)
        label = (image[..., 0] > 127).astype(np.uint8)
        cv2.imwrite(str(root / f"{index}.png"), image)
        cv2.imwrite(str(root / f"{index}_label.png"), label)
        lines.append(f"{index}.png {index}_label.png")
    (root / "train.txt").write_text("\n".join(lines) + "\n")
    return Dataset(transforms=[Normalize()], dataset_root=str(root),
                   num_classes=2, mode="train", train_path=str(root / "train.txt"))


def test_paddleseg_core_train_logs_per_term_losses(tmp_path):
    from paddleseg.core import train

    paddle.seed(0)
    dataset = _tiny_file_list_dataset(tmp_path)
    model = manager.MODELS["PPHumanSegLite"](num_classes=2)
    optimizer = paddle.optimizer.SGD(learning_rate=0.01, parameters=model.parameters())
    # DiceLoss avoids the CE breakage, so this test fails only without the 0-d loss fix.
    losses = {"types": [MixedLoss([DiceLoss(), DiceLoss(smooth=2.0)], [1.0, 0.5])], "coef": [1.0]}
    with paddleseg_training_on_paddle3():
        train(model, dataset, optimizer=optimizer, save_dir=str(tmp_path / "out"), iters=2,
              batch_size=2, log_iters=1, save_interval=2, num_workers=0, losses=losses)
    assert (tmp_path / "out" / "iter_2" / "model.pdparams").exists()


LEGACY_EXPORT = """
import sys
import paddle
from pphumanseg.utils.paddle3_compat import legacy_graph_ops

class Gate(paddle.nn.Layer):
    def forward(self, x):
        keep = paddle.logical_and(x > 0, x < 10)
        return paddle.multiply(x, paddle.cast(keep, x.dtype))

with legacy_graph_ops():
    layer = paddle.jit.to_static(Gate(), input_spec=[paddle.static.InputSpec([1, 4], "float32")])
    paddle.jit.save(layer, sys.argv[1])
"""


def test_multiply_and_logical_and_trace_into_legacy_programs(tmp_path):
    """paddleseg's MobileNetV3 (PP-HumanSegV2) uses both; legacy programs are what Paddle Lite needs."""
    script = tmp_path / "export_gate.py"  # to_static reads the layer's source from a file
    script.write_text(LEGACY_EXPORT)
    env = dict(os.environ, FLAGS_enable_pir_api="0", PYTHONWARNINGS="ignore")
    result = subprocess.run([sys.executable, str(script), str(tmp_path / "gate")],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "gate.pdmodel").exists()
