import os
import signal
import subprocess
import sys
import time

import numpy as np
import paddle
import pytest
from visualdl import LogReader

from in_process import run_cli


def test_train_logs_each_loss_term_evaluates_and_keeps_checkpoints(config, tmp_path, capsys):
    save_dir = tmp_path / "out"
    assert run_cli("train", "--config", config, "--save_dir", save_dir, "--iters", 6, "--save_interval", 2,
                   "--keep_checkpoint_max", 2, "--do_eval", "--use_vdl", "--log_iters", 3) == 0
    log = capsys.readouterr()
    text = log.out + log.err
    assert "[TRAIN] epoch: 1, iter: 3/6" in text and "CrossEntropyLoss: " in text and "SCLoss: " in text
    assert "lr: " in text and "ips: " in text and "ETA " in text
    assert "SC: " in text and "Temporal stability: " in text
    entries = sorted(os.listdir(save_dir))
    assert [e for e in entries if not e.startswith("vdlrecords")] == ["best_model", "iter_4", "iter_6"]
    records = [e for e in entries if e.startswith("vdlrecords")]
    assert len(records) == 1
    scalars = LogReader(file_path=str(save_dir / records[0])).get_tags()["scalar"]
    assert {"Train/loss_CrossEntropyLoss", "Train/loss_SCLoss", "Train/lr", "Evaluate/miou",
            "Evaluate/sc", "Evaluate/temporal_stability"} <= set(scalars)
    for name in ("model.pdparams", "model.pdopt", "train_state.json"):
        assert (save_dir / "iter_6" / name).is_file()
    assert (save_dir / "best_model" / "model.pdparams").is_file()


def test_n_plus_resumed_n_iterations_equal_2n_straight(config, tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    common = ["--config", config, "--save_interval", 2, "--log_iters", 2, "--seed", 3]
    assert run_cli("train", *common, "--save_dir", straight, "--iters", 4) == 0
    # The first half uses the 4-iteration lr schedule so that both runs share one schedule.
    assert run_cli("train", *common, "--save_dir", split, "--iters", 2,
                   "--opts", "lr_scheduler.decay_steps=4") == 0
    assert run_cli("train", *common, "--save_dir", split, "--iters", 4,
                   "--resume_model", split / "iter_2") == 0
    a = paddle.load(str(straight / "iter_4" / "model.pdparams"))
    b = paddle.load(str(split / "iter_4" / "model.pdparams"))
    first = paddle.load(str(split / "iter_2" / "model.pdparams"))
    assert any(not np.array_equal(first[k].numpy(), a[k].numpy()) for k in a)  # training moved weights
    for key in a:
        np.testing.assert_allclose(a[key].numpy(), b[key].numpy(), rtol=1e-5, atol=1e-6, err_msg=key)
    opt_a = paddle.load(str(straight / "iter_4" / "model.pdopt"))
    opt_b = paddle.load(str(split / "iter_4" / "model.pdopt"))
    assert opt_a["LR_Scheduler"] == opt_b["LR_Scheduler"]


@pytest.mark.parametrize("args, message", [
    (["--config", "absent.yml"], "absent.yml: config file not found"),
    (["--opts", "model.type=ConectNet"], "unknown component 'ConectNet'; did you mean 'ConnectNet'"),
    (["--opts", "train_dataset.dataset_root=/no/such/dir"], "train_dataset.dataset_root: directory not found"),
    (["--resume_model", "/no/such/iter_2"], "--resume_model /no/such/iter_2: checkpoint directory not found"),
    (["--device", "gpu"], "--device gpu: "),
    (["--save_interval", "0"], "--save_interval 0: must be at least 1"),
    (["--opts", "train_dataset.temporal=True"], "train_dataset.temporal must be false"),
    (["--do_eval", "--opts", "val_dataset.mode=train"], "val_dataset.mode must be 'val' for evaluation (got 'train')"),
])
def test_bad_input_is_a_one_line_error_with_status_2(config, tmp_path, capsys, args, message):
    save_dir = tmp_path / "out"
    argv = ["train", "--config", config, "--save_dir", save_dir] + args
    if paddle.is_compiled_with_cuda() and "gpu" in args:
        pytest.fail("this test expects a CPU-only PaddlePaddle build")
    assert run_cli(*argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("pphumanseg train: error: ") and message in err[-1]
    assert not save_dir.exists()


def test_corrupt_checkpoint_from_the_command_line_prints_one_line(config, tmp_path, cli_env):
    save_dir = tmp_path / "out"
    assert run_cli("train", "--config", config, "--save_dir", save_dir, "--iters", 2, "--save_interval", 2) == 0
    params = save_dir / "iter_2" / "model.pdparams"
    params.write_bytes(params.read_bytes()[:200])
    result = subprocess.run([sys.executable, "-m", "pphumanseg", "train", "--config", str(config),
                             "--save_dir", str(tmp_path / "again"), "--resume_model", str(save_dir / "iter_2")],
                            capture_output=True, text=True, env=cli_env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"pphumanseg train: error: {params}: corrupt or not a Paddle state file (ValueError)"]
    assert not (tmp_path / "again").exists()


def test_kill_9_during_training_leaves_every_checkpoint_loadable(config, tmp_path, cli_env):
    from pphumanseg.core.checkpoint import load_resume_state

    save_dir = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "pphumanseg", "train", "--config", str(config),
                                "--save_dir", str(save_dir), "--iters", "100000", "--save_interval", "1",
                                "--keep_checkpoint_max", "3"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cli_env)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and len(list(save_dir.glob("iter_*"))) < 3:
            time.sleep(0.05)
        time.sleep(0.13)  # somewhere inside a later save
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    checkpoints = sorted(save_dir.glob("iter_*"), key=lambda p: int(p.name.split("_")[1]))
    assert len(checkpoints) >= 2
    for directory in checkpoints:
        assert load_resume_state(str(directory))[2]["iter"] == int(directory.name.split("_")[1])
    latest = int(checkpoints[-1].name.split("_")[1])
    assert run_cli("train", "--config", config, "--save_dir", save_dir, "--iters", latest + 1,
                   "--resume_model", checkpoints[-1]) == 0
    assert load_resume_state(str(save_dir / f"iter_{latest + 1}"))[2]["iter"] == latest + 1
    assert not [p for p in os.listdir(save_dir) if p.startswith(".")]  # staging of the killed save removed
