"""TIPC driver: prepare data and run the train -> eval -> export -> infer -> compare chain.

``test_tipc/prepare.sh`` and ``test_tipc/test_train_inference_python.sh`` call this module. A
``train_infer_python.txt`` uses PaddleSeg's TIPC ``key:value`` vocabulary, one per line, under
``=====section=====`` headers; a value may differ per mode
(``--iters:lite_train_lite_infer=4|whole_train_whole_infer=1000``) and a list value is written
``a|b|c``. Unlike PaddleSeg's shell driver, keys are read by name: every key of ``SCHEMA`` must be
present in its section and unknown keys are errors, so a typo fails loudly instead of shifting
every later line. ``null`` as a flag value leaves that flag out of the command.

Every step runs the ``pphumanseg`` command line in a subprocess (output in
``output/<model>/<mode>/logs/<step>.log``) and adds one PASS/FAIL line to
``output/<model>/results_<mode>.log``; the chain exits non-zero if any step failed.
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

TIPC_ROOT = Path(__file__).resolve().parent
REPO_ROOT = TIPC_ROOT.parent
MODES = ("lite_train_lite_infer", "lite_train_whole_infer", "whole_train_whole_infer")
RUNTIMES = ("paddle", "onnx", "lite")

# Keys of each section, in the order their flags are passed. Keys starting with "--" are flags
# of the section's command; the others are read by the driver.
SCHEMA = {
    "data_params": ["data_preset", "data_size", "data_videos", "data_frames", "data_seed",
                    "infer_img_num"],
    "train_params": ["model_name", "config", "norm_train", "--iters", "--batch_size",
                     "--learning_rate", "--seed", "--num_workers", "--device", "train_model_name"],
    "eval_params": ["eval", "--num_workers", "--device"],
    "export_params": ["norm_export", "--output_op", "--input_shape", "--formats"],
    "infer_params": ["inference", "--runtime", "--threads", "--bg"],
    "compare_params": ["compare_reference", "compare_max_abs_diff", "compare_min_agreement"],
}
EXPORT_FILES = {"paddle": ["deploy.yaml", "model.pdmodel", "model.pdiparams"],
                "onnx": ["model.onnx"], "lite": ["model_x86.nb", "model_arm.nb"]}


class TipcConfigError(Exception):
    """A train_infer_python.txt that cannot be used; the message names the file (and line)."""


class TipcConfig:
    """A parsed ``train_infer_python.txt``.

    Args:
        path (str | Path): The config file.
        mode (str): One of ``MODES``; per-mode values are resolved for it.
    """

    def __init__(self, path, mode):
        if mode not in MODES:
            raise TipcConfigError(f"mode {mode!r} is not one of {', '.join(MODES)}")
        self.path = Path(path)
        self.mode = mode
        if not self.path.is_file():
            raise TipcConfigError(f"{self.path}: no such config file")
        self.entries = self._parse(self.path.read_text().splitlines())
        for section, keys in SCHEMA.items():
            for key in keys:
                if (section, key) not in self.entries:
                    raise TipcConfigError(f"{self.path}: missing key '{key}' in [{section}]")

    def _parse(self, lines):
        entries = {}
        section = None
        for number, raw in enumerate(lines, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            where = f"{self.path}:{number}"
            if line.startswith("==="):
                section = line.strip("=").strip()
                if section not in SCHEMA:
                    raise TipcConfigError(f"{where}: unknown section '{section}' "
                                          f"(expected one of {', '.join(SCHEMA)})")
                continue
            key, colon, value = line.partition(":")
            if not colon:
                raise TipcConfigError(f"{where}: expected 'key:value', got {line!r}")
            key, value = key.strip(), value.strip()
            if section is None:
                raise TipcConfigError(f"{where}: key '{key}' before the first =====section=====")
            if key not in SCHEMA[section]:
                raise TipcConfigError(f"{where}: unknown key '{key}' in [{section}]")
            if (section, key) in entries:
                raise TipcConfigError(f"{where}: key '{key}' repeated in [{section}]")
            entries[(section, key)] = (self._for_mode(value, where, key), where)
        return entries

    def _for_mode(self, value, where, key):
        parts = value.split("|")
        per_mode = [part for part in parts if part.partition("=")[0] in MODES]
        if not per_mode:
            return value
        if len(per_mode) != len(parts):
            raise TipcConfigError(f"{where}: '{key}' mixes per-mode and plain values: {value!r}")
        chosen = dict(part.split("=", 1) for part in parts)
        if self.mode not in chosen:
            raise TipcConfigError(f"{where}: '{key}' has no value for mode {self.mode}")
        return chosen[self.mode]

    def get(self, section, key):
        """The value (a string) of ``key`` in ``section`` for this config's mode."""
        return self.entries[(section, key)][0]

    def get_int(self, section, key, allow_all=False):
        """An integer value; with ``allow_all`` the word ``all`` gives None."""
        value, where = self.entries[(section, key)]
        if allow_all and value == "all":
            return None
        try:
            return int(value)
        except ValueError:
            raise TipcConfigError(f"{where}: '{key}' must be an integer, got {value!r}") from None

    def get_float(self, section, key):
        value, where = self.entries[(section, key)]
        try:
            return float(value)
        except ValueError:
            raise TipcConfigError(f"{where}: '{key}' must be a number, got {value!r}") from None

    def get_list(self, section, key, allowed, separator="|"):
        """A ``a|b|c`` value (or another ``separator``) whose items must all be in ``allowed``."""
        value, where = self.entries[(section, key)]
        items = value.split(separator)
        unknown = [item for item in items if item not in allowed]
        if unknown:
            raise TipcConfigError(f"{where}: '{key}' item(s) {unknown} not in {list(allowed)}")
        return items

    def get_choice(self, section, key, allowed):
        """A single value that must be one of ``allowed``."""
        value, where = self.entries[(section, key)]
        if value not in allowed:
            raise TipcConfigError(f"{where}: '{key}' is {value!r}, expected one of {list(allowed)}")
        return value

    def command(self, section, key):
        """The command of ``key`` as an argument list, e.g. ['pphumanseg', 'train']."""
        return shlex.split(self.get(section, key))

    def flags(self, section, skip=()):
        """The ``--flag value`` arguments of a section (``null`` values left out)."""
        arguments = []
        for key in SCHEMA[section]:
            if key.startswith("--") and key not in skip and self.get(section, key) != "null":
                arguments += [key, *shlex.split(self.get(section, key))]
        return arguments

    @property
    def model_name(self):
        return self.get("train_params", "model_name")

    @property
    def data_dir(self):
        """Where prepare writes this mode's data, relative to the repository root."""
        return (TIPC_ROOT / "data" / self.model_name / self.mode).relative_to(REPO_ROOT)


def _environment():
    """The subprocess environment: this interpreter's bin/ first on PATH (the ``pphumanseg`` script)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("PYTHONWARNINGS", "ignore")
    return env


def _run_logged(argv, log_path):
    """Run a command from the repository root, output to ``log_path``; returns (ok, seconds)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with open(log_path, "w") as log:
        log.write(f"$ {shlex.join(argv)}\n")
        log.flush()
        try:
            status = subprocess.run(argv, cwd=REPO_ROOT, env=_environment(), stdout=log,
                                    stderr=subprocess.STDOUT).returncode
        except OSError as error:
            log.write(f"cannot start: {error}\n")
            status = 127
    return status == 0, time.perf_counter() - start


def prepare(config):
    """Generate the mode's dataset and its inference images under ``test_tipc/data``."""
    data_dir = config.data_dir
    dataset = data_dir / "dataset"
    logs = TIPC_ROOT / "output" / config.model_name / config.mode / "logs"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    synth = ["pphumanseg", "synth", "--out", str(dataset),
             "--videos", str(config.get_int("data_params", "data_videos")),
             "--frames", str(config.get_int("data_params", "data_frames")),
             "--size", config.get("data_params", "data_size"),
             "--seed", str(config.get_int("data_params", "data_seed")),
             "--preset", config.get("data_params", "data_preset")]
    for name, argv in (("synth", synth), ("validate", ["pphumanseg", "data", "validate", "--root",
                                                        str(dataset)])):
        ok, _ = _run_logged(argv, logs / f"prepare_{name}.log")
        if not ok:
            print(f"prepare: '{shlex.join(argv)}' failed, see {logs / f'prepare_{name}.log'}",
                  file=sys.stderr)
            return 1
    images = _list_images(dataset / "test.txt")
    count = config.get_int("data_params", "infer_img_num", allow_all=True)
    infer_dir = data_dir / "infer_images"
    infer_dir.mkdir(parents=True)
    for image in images[:count]:
        video = image.parent.name
        shutil.copyfile(image, infer_dir / f"{video}_{image.name}")
    print(f"prepare: {dataset} and {len(images[:count])} inference image(s) in {infer_dir}")
    return 0


def _list_images(list_file):
    lines = [line.split() for line in list_file.read_text().splitlines() if line.strip()]
    return [list_file.parent / parts[0] for parts in lines]


class Chain:
    """The steps of one TIPC run, each recorded as a PASS/FAIL line.

    Args:
        config (TipcConfig): The parsed config, for one mode.
    """

    def __init__(self, config):
        self.config = config
        self.work = (TIPC_ROOT / "output" / config.model_name / config.mode).relative_to(REPO_ROOT)
        self.results = []
        self.dataset = config.data_dir / "dataset"
        # Every typed value is read here, so a bad config fails before the first step runs.
        self.iters = config.get_int("train_params", "--iters")
        self.model_path = self.work / "train" / config.get("train_params", "train_model_name").format(
            iters=self.iters)
        self.formats = config.get_list("export_params", "--formats", RUNTIMES, separator=",")
        self.runtimes = config.get_list("infer_params", "--runtime", self.formats)
        self.reference = config.get_choice("compare_params", "compare_reference", self.runtimes)
        self.max_abs_diff = config.get_float("compare_params", "compare_max_abs_diff")
        self.min_agreement = config.get_float("compare_params", "compare_min_agreement")

    def record(self, step, ok, seconds, detail):
        line = f"{'PASS' if ok else 'FAIL'} {step:<14} {seconds:7.1f}s  {detail}"
        self.results.append((ok, line))
        print(line, flush=True)
        return ok

    def run_step(self, step, argv, check=None):
        """Run a command; the step passes if it exits 0 and ``check()`` returns None (else a reason)."""
        log = self.work / "logs" / f"{step}.log"
        ok, seconds = _run_logged(argv, log)
        detail = shlex.join(argv)
        if not ok:
            detail += f"  (non-zero exit, see {log})"
        elif check is not None:
            reason = check()
            if reason:
                ok, detail = False, f"{detail}  ({reason})"
        return self.record(step, ok, seconds, detail)

    def skip(self, step, needed):
        return self.record(step, False, 0.0, f"not run: needs step '{needed}'")

    def dataset_opts(self):
        root = str(self.dataset)
        return ["--opts", f"train_dataset.dataset_root={root}", f"val_dataset.dataset_root={root}"]

    def run(self):
        config = self.config
        if self.work.exists():
            shutil.rmtree(self.work)
        model_config = config.get("train_params", "config")
        model_path = self.model_path
        train = config.command("train_params", "norm_train") + [
            "--config", model_config, *self.dataset_opts(), "--save_dir", str(self.work / "train"),
            "--save_interval", str(self.iters), *config.flags("train_params")]
        trained = self.run_step("train", train, check=lambda: _missing([model_path]))

        metrics = self.work / "eval" / "metrics.json"
        evaluate = config.command("eval_params", "eval") + [
            "--config", model_config, *self.dataset_opts(), "--model_path", str(model_path),
            "--save_json", str(metrics), *config.flags("eval_params")]
        if trained:
            self.run_step("eval", evaluate, check=lambda: _check_metrics(metrics))
        else:
            self.skip("eval", "train")

        export_dir = self.work / "export"
        export = config.command("export_params", "norm_export") + [
            "--config", model_config, *self.dataset_opts(), "--model_path", str(model_path),
            "--save_dir", str(export_dir), *config.flags("export_params")]
        expected = [export_dir / name for fmt in self.formats for name in EXPORT_FILES[fmt]]
        exported = trained and self.run_step("export", export, check=lambda: _missing(expected))
        if not trained:
            self.skip("export", "train")

        images = sorted((config.data_dir / "infer_images").glob("*"))
        inferred = {}
        for runtime in self.runtimes:
            save_dir = self.work / f"infer_{runtime}"
            infer = config.command("infer_params", "inference") + [
                "--model_dir", str(export_dir), "--input", str(config.data_dir / "infer_images"),
                "--save", str(save_dir), "--runtime", runtime, "--quiet",
                *config.flags("infer_params", skip=("--runtime",))]
            masks = [save_dir / f"{image.stem}_mask.png" for image in images]
            if exported:
                inferred[runtime] = self.run_step(f"infer_{runtime}", infer,
                                                  check=lambda masks=masks: _missing(masks))
            else:
                self.skip(f"infer_{runtime}", "export")
        self.compare(images, inferred)
        return self.write_results()

    def compare(self, images, inferred):
        """Soft masks of every runtime against the reference runtime's, image by image."""
        reference, max_abs_diff, min_agreement = self.reference, self.max_abs_diff, self.min_agreement
        for runtime in self.runtimes:
            if runtime == reference:
                continue
            step = f"compare_{runtime}"
            if not (inferred.get(reference) and inferred.get(runtime)):
                self.skip(step, f"infer_{reference} and infer_{runtime}")
                continue
            start = time.perf_counter()
            worst_diff, worst_agreement = 0, 1.0
            for image in images:
                ours = _read_mask(self.work / f"infer_{runtime}" / f"{image.stem}_mask.png")
                theirs = _read_mask(self.work / f"infer_{reference}" / f"{image.stem}_mask.png")
                diff = np.abs(ours.astype(np.int16) - theirs.astype(np.int16))
                worst_diff = max(worst_diff, int(diff.max()))
                worst_agreement = min(worst_agreement,
                                      float(np.mean((ours >= 128) == (theirs >= 128))))
            ok = worst_diff <= max_abs_diff and worst_agreement >= min_agreement
            self.record(step, ok, time.perf_counter() - start,
                        f"{runtime} vs {reference} on {len(images)} image(s): max |mask diff| "
                        f"{worst_diff}/255 (limit {max_abs_diff:g}), hard-mask agreement "
                        f"{worst_agreement:.5f} (limit {min_agreement:g})")

    def write_results(self):
        failed = sum(not ok for ok, _ in self.results)
        summary = f"{self.config.model_name} {self.config.mode}: {len(self.results) - failed} passed, {failed} failed"
        path = self.work.parent / f"results_{self.config.mode}.log"
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".partial") as out:
            out.write("".join(line + "\n" for _, line in self.results) + summary + "\n")
        os.replace(out.name, path)
        print(f"{summary}; results in {path}")
        return 1 if failed else 0


def _missing(paths):
    absent = [str(path) for path in paths if not (REPO_ROOT / path).is_file()]
    return f"missing output: {', '.join(absent[:3])}" if absent else None


def _check_metrics(path):
    if not path.is_file():
        return f"no metrics file {path}"
    metrics = json.loads(path.read_text())
    for key in ("miou", "sc", "temporal_stability"):
        value = metrics.get(key)
        if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
            return f"metric '{key}' is {value!r}, expected a number in [0, 1]"
    return None


def _read_mask(path):
    mask = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if mask is None:
        raise OSError(f"cannot read mask {path}")
    return mask


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("prepare", "chain"))
    parser.add_argument("config", help="test_tipc/configs/<model>/train_infer_python.txt")
    parser.add_argument("mode", help=" | ".join(MODES))
    args = parser.parse_args(argv)
    config_path = os.path.abspath(args.config)
    # Commands and the paths in the results log are relative to the repository root.
    os.chdir(REPO_ROOT)
    try:
        config = TipcConfig(config_path, args.mode)
        if args.action == "prepare":
            return prepare(config)
        if not (config.data_dir / "infer_images").is_dir():
            raise TipcConfigError(f"no data for {config.model_name} {config.mode}: run "
                                  f"'bash test_tipc/prepare.sh {args.config} {args.mode}' first")
        return Chain(config).run()
    except TipcConfigError as error:
        print(f"tipc: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
