import json
import os

import numpy as np
import paddle
import pytest

from pphumanseg.core import checkpoint
from pphumanseg.models.weights import check_weights_match
from pphumanseg.utils.atomic_write import recover_directories
from pphumanseg.utils.errors import UsageError


def small_model_and_optimizer():
    model = paddle.nn.Sequential(paddle.nn.Conv2D(3, 4, 3), paddle.nn.BatchNorm2D(4), paddle.nn.Conv2D(4, 2, 1))
    scheduler = paddle.optimizer.lr.PolynomialDecay(0.1, decay_steps=10, power=0.9)
    optimizer = paddle.optimizer.Momentum(scheduler, momentum=0.9, parameters=model.parameters())
    return model, optimizer


def step(model, optimizer):
    loss = model(paddle.ones([1, 3, 8, 8])).mean()
    loss.backward()
    optimizer.step()
    optimizer.clear_grad()
    optimizer._learning_rate.step()


def test_resume_state_round_trips_across_differently_named_parameters(tmp_path):
    model, optimizer = small_model_and_optimizer()
    step(model, optimizer)
    step(model, optimizer)
    checkpoint.save_checkpoint(str(tmp_path / "iter_2"), model, optimizer, {"iter": 2, "seed": 5})
    # A second model in the same process gets other runtime parameter names (conv2d_3.w_0, ...).
    other, other_optimizer = small_model_and_optimizer()
    assert [p.name for p in other.parameters()] != [p.name for p in model.parameters()]
    weights, optimizer_state, state = checkpoint.load_resume_state(str(tmp_path / "iter_2"))
    other.set_state_dict(weights)
    checkpoint.set_optimizer_state(other_optimizer, other, optimizer_state)
    assert state == {"iter": 2, "seed": 5}
    assert other_optimizer.get_lr() == optimizer.get_lr()
    step(model, optimizer)
    step(other, other_optimizer)  # uses the restored momentum: same update as the original
    for a, b in zip(model.parameters(), other.parameters()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)


def test_a_failure_while_saving_leaves_the_previous_checkpoint_and_no_temporary_files(tmp_path, monkeypatch):
    model, optimizer = small_model_and_optimizer()
    target = tmp_path / "best_model"
    checkpoint.save_checkpoint(str(target), model, optimizer, {"iter": 1})
    before = (target / "model.pdparams").read_bytes()
    step(model, optimizer)
    real_save = paddle.save

    def save_then_die(obj, path, *args, **kwargs):
        if str(path).endswith(".pdopt"):
            raise KeyboardInterrupt  # as if killed between the two files
        real_save(obj, path, *args, **kwargs)

    monkeypatch.setattr(paddle, "save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save_checkpoint(str(target), model, optimizer, {"iter": 2})
    assert (target / "model.pdparams").read_bytes() == before
    assert json.loads((target / "train_state.json").read_text()) == {"iter": 1}
    assert sorted(os.listdir(tmp_path)) == ["best_model"]
    monkeypatch.setattr(paddle, "save", real_save)
    checkpoint.save_checkpoint(str(target), model, optimizer, {"iter": 2})  # replaces it
    assert json.loads((target / "train_state.json").read_text()) == {"iter": 2}
    assert sorted(os.listdir(tmp_path)) == ["best_model"]


def test_partial_corrupt_and_mismatched_checkpoints_are_one_line_errors(tmp_path):
    model, optimizer = small_model_and_optimizer()
    directory = tmp_path / "iter_1"
    checkpoint.save_checkpoint(str(directory), model, optimizer, {"iter": 1})
    (directory / "model.pdopt").unlink()
    with pytest.raises(UsageError, match="incomplete checkpoint, missing model.pdopt"):
        checkpoint.load_resume_state(str(directory))
    checkpoint.save_checkpoint(str(directory), model, optimizer, {"iter": 1})
    data = (directory / "model.pdparams").read_bytes()
    (directory / "model.pdparams").write_bytes(data[: len(data) // 2])
    with pytest.raises(UsageError, match="model.pdparams: corrupt"):
        checkpoint.load_resume_state(str(directory))
    with pytest.raises(UsageError, match="checkpoint directory not found"):
        checkpoint.load_resume_state(str(tmp_path / "absent"))
    bigger = paddle.nn.Sequential(paddle.nn.Conv2D(3, 8, 3))
    with pytest.raises(UsageError) as error:
        check_weights_match(bigger, model.state_dict(), "m.pdparams")
    message = str(error.value)
    assert "\n" not in message and message.startswith("m.pdparams: does not match Sequential")
    assert "2 with other shapes (e.g. 0.bias: [4] vs model [8])" in message and "6 unexpected" in message


def test_staging_left_by_a_killed_process_is_removed_and_checkpoints_are_kept(tmp_path):
    model, optimizer = small_model_and_optimizer()
    checkpoint.save_checkpoint(str(tmp_path / "iter_1"), model, optimizer, {"iter": 1})
    (tmp_path / ".iter_2.k3j2.tmp").mkdir()
    (tmp_path / ".iter_2.k3j2.tmp" / "model.pdparams").write_bytes(b"partial")
    (tmp_path / ".best_model.x1.old").mkdir()
    recover_directories(str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["iter_1"]
    assert checkpoint.load_resume_state(str(tmp_path / "iter_1"))[2] == {"iter": 1}


def kill_before_second_rename(monkeypatch):
    """Makes the next replacement of a directory stop as a kill between its two renames would."""
    real_rename = os.rename
    calls = []

    def rename(source, target):
        calls.append(target)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real_rename(source, target)

    monkeypatch.setattr(os, "rename", rename)


@pytest.mark.parametrize("reader", ["next run", "resume"])
def test_a_kill_between_the_renames_of_a_replacement_keeps_the_previous_checkpoint(
        tmp_path, monkeypatch, reader):
    model, optimizer = small_model_and_optimizer()
    target = tmp_path / "best_model"
    checkpoint.save_checkpoint(str(target), model, optimizer, {"iter": 1})
    kill_before_second_rename(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save_checkpoint(str(target), model, optimizer, {"iter": 2})
    monkeypatch.undo()
    assert not target.exists()  # the previous one is aside, the new one not yet in place
    if reader == "next run":
        recover_directories(str(tmp_path))  # what train does at start
        assert sorted(os.listdir(tmp_path)) == ["best_model"]
    assert checkpoint.load_resume_state(str(target))[2] == {"iter": 1}
