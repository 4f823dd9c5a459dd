"""Two CPU processes of data-parallel training through paddle.distributed.launch (gloo)."""
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import paddle

# Runs the real `pphumanseg train` entry point, then saves each rank's final weights into the
# directory given as its last argument. Each rank trains into its own save_dir so the test can
# see which ranks write files.
DRIVER = textwrap.dedent("""
    import sys
    import paddle
    import pphumanseg.core.train as train_module
    from pphumanseg.cli.main import main

    rank = paddle.distributed.get_rank()
    models = []
    real_train = train_module.train

    def keep_model(model, *args, **kwargs):
        models.append(model)
        return real_train(model, *args, **kwargs)

    train_module.train = keep_model
    weights_dir = sys.argv.pop()
    argv = sys.argv[1:]
    argv[argv.index("--save_dir") + 1] += f"_rank{rank}"
    status = main(argv)
    paddle.save(models[0].state_dict(), f"{weights_dir}/weights_rank{rank}.pdparams")
    sys.exit(status)
""")


def test_two_cpu_processes_train_in_step_and_only_rank_0_writes(config, tmp_path, cli_env):
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    save_dir = tmp_path / "out"
    env = dict(cli_env, PADDLE_DISTRI_BACKEND="gloo")
    command = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2",
               "--log_dir", str(tmp_path / "log"), str(driver), "train", "--config", str(config),
               "--save_dir", str(save_dir), "--iters", "3", "--batch_size", "1", "--save_interval", "3",
               "--log_iters", "1", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert (tmp_path / "log").is_dir(), result.stdout[-3000:] + result.stderr[-3000:]
    logs = {rank: (tmp_path / "log" / f"workerlog.{rank}").read_text() for rank in (0, 1)}
    assert result.returncode == 0, result.stdout[-2000:] + logs[0][-2000:] + logs[1][-2000:]
    assert "[TRAIN] epoch: 1, iter: 3/3" in logs[0] and "[TRAIN]" not in logs[1]
    assert sorted(os.listdir(f"{save_dir}_rank0")) == ["iter_3"]
    assert not os.path.exists(f"{save_dir}_rank1")
    weights = [paddle.load(str(tmp_path / f"weights_rank{rank}.pdparams")) for rank in (0, 1)]
    saved = paddle.load(f"{save_dir}_rank0/iter_3/model.pdparams")
    for key, value in weights[0].items():
        if key.endswith(("_mean", "_variance")):
            continue  # BatchNorm statistics are per process on CPU (no SyncBatchNorm kernel)
        np.testing.assert_allclose(value.numpy(), weights[1][key].numpy(), rtol=1e-5, atol=1e-6, err_msg=key)
        np.testing.assert_array_equal(value.numpy(), saved[key].numpy())
    shutil.rmtree(tmp_path / "log")
