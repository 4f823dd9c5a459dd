"""The local cache of released models: fetched once, checked, then used by every command.

Layout: ``$PPHUMANSEG_HOME`` (default ``~/.cache/pphumanseg``) holds ``NAME/checkpoint/``
(``model.pdparams``) and ``NAME/inference/`` (``deploy.yaml`` and the graph files); checkpoints
fetched by URL go to ``url-FILE-DIGEST/checkpoint/``. A model is downloaded, unpacked and checked
in hidden staging directories at the cache's top level and renamed into place only when the check
passed, so the cache never holds a partial or foreign model under a real name:
a checkpoint must load into its config's model with every parameter present and of the right
shape, an inference directory must open in ``pphumanseg_deploy.Predictor``.
"""
import contextlib
import hashlib
import io
import os
import shutil
import tarfile
import zipfile
from pathlib import Path
from urllib.parse import urlparse

from pphumanseg.core.model_files import CHECKPOINT_WEIGHTS_FILE, DEPLOY_FILE
from pphumanseg.utils.atomic_write import replace_directory, staging_directory
from pphumanseg.utils.errors import UsageError
from pphumanseg.zoo.catalog import KINDS, released_model
from pphumanseg.zoo.download import download

CONFIGS_DIR = Path(__file__).resolve().parents[3] / "configs"


def cache_home():
    return Path(os.environ.get("PPHUMANSEG_HOME") or Path.home() / ".cache" / "pphumanseg")


def cached_path(name, kind):
    """Where the released model ``name`` of ``kind`` lives in the cache (it may be absent)."""
    return cache_home() / name / kind


def fetch(name, kind):
    """The cached directory of a released model, downloaded, unpacked and checked on first use."""
    model = released_model(name)
    _check_kind(kind)
    remedy = f"download it elsewhere and run: pphumanseg zoo get {name} --kind {kind} --from FILE"
    return _fetch(cached_path(name, kind), kind, model.url(kind), remedy,
                  CONFIGS_DIR / model.config)


def fetch_url(url):
    """Like :func:`fetch` for a checkpoint URL outside the catalogue (checked only for being a
    readable state dict: no config says which model it is for)."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:12]  # same file names, other URLs
    name = Path(urlparse(url).path).name.split(".")[0]
    return _fetch(cache_home() / f"url-{name}-{digest}" / "checkpoint", "checkpoint", url,
                  "download it elsewhere and give its path instead", None)


def _fetch(target, kind, url, remedy, config):
    if target.is_dir():
        return str(target)
    with staging_directory(f"{target.parent}-{kind}-download") as folder:
        archive = download(url, Path(folder), remedy)
        # Several processes (data-parallel ranks) may fetch at once: the first to finish wins.
        return _install(target, kind, archive, url, config, replace=False)


def install(name, kind, source):
    """Installs a released model from ``source`` (a zip, a tar archive, a ``.pdparams`` file or
    a directory, e.g. one downloaded elsewhere) into the cache, replacing what was there.

    Returns:
        str: the cached directory.
    """
    model = released_model(name)
    _check_kind(kind)
    return _install(cached_path(name, kind), kind, Path(source), str(source),
                    CONFIGS_DIR / model.config, replace=True)


def _check_kind(kind):
    if kind not in KINDS:
        raise UsageError(f"zoo: kind must be one of {', '.join(KINDS)}, got {kind!r}")


def _install(target, kind, source, origin, config, replace):
    if not source.exists():
        raise UsageError(f"{source}: not found")
    # Staged at the cache's top level, so that a failed install leaves no folder for NAME.
    with staging_directory(cache_home() / f"{target.parent.name}-{kind}") as staging:
        unpacked = Path(staging) / "unpacked"
        _unpack(source, unpacked)
        content = _find_content(unpacked, kind, origin)
        if kind == "checkpoint":
            _check_checkpoint(content / CHECKPOINT_WEIGHTS_FILE, config, origin)
        else:
            _check_inference(content, origin)
        target.parent.mkdir(parents=True, exist_ok=True)
        if replace:
            replace_directory(content, target)
        elif not target.is_dir():
            try:
                os.rename(content, target)
            except OSError:
                if not target.is_dir():  # not another process's finished install
                    raise
    return str(target)


def _unpack(source, folder):
    """Copies or extracts ``source`` (by its extension) into ``folder``, refusing archive
    members that would land outside it."""
    folder.mkdir()
    name = source.name.lower()
    if source.is_dir():
        shutil.copytree(source, folder, dirs_exist_ok=True)
    elif name.endswith(".zip"):
        try:
            with zipfile.ZipFile(source) as archive:
                _check_members(source, archive.namelist(), folder)
                archive.extractall(folder)
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise UsageError(f"{source}: damaged zip archive ({error})") from None
    elif name.endswith((".tar", ".tar.gz", ".tgz")):
        try:
            with tarfile.open(source) as archive:
                members = archive.getmembers()
                _check_members(source, [m.name for m in members], folder)
                archive.extractall(folder, members=[m for m in members if m.isfile() or m.isdir()])
        except (tarfile.TarError, OSError, EOFError) as error:
            raise UsageError(f"{source}: damaged tar archive ({error})") from None
    else:
        shutil.copy(source, folder / source.name)


def _check_members(source, names, folder):
    root = folder.resolve()
    for name in names:
        if not (folder / name).resolve().is_relative_to(root):
            raise UsageError(f"{source}: archive member {name!r} points outside the archive")


def _find_content(unpacked, kind, origin):
    """The directory to cache: one holding ``model.pdparams`` (checkpoint; a lone ``.pdparams``
    of another name is renamed) or ``deploy.yaml`` (inference)."""
    if kind == "checkpoint":
        weights = sorted(unpacked.rglob("*.pdparams"))
        if len(weights) != 1:
            found = "no .pdparams file" if not weights else f"{len(weights)} .pdparams files"
            raise UsageError(f"{origin}: not a checkpoint ({found})")
        if weights[0].name != CHECKPOINT_WEIGHTS_FILE:
            weights[0].rename(weights[0].with_name(CHECKPOINT_WEIGHTS_FILE))
        return weights[0].parent
    found = sorted(unpacked.rglob(DEPLOY_FILE))
    if len(found) != 1:
        raise UsageError(f"{origin}: not an inference model "
                         f"({'no' if not found else len(found)} {DEPLOY_FILE})")
    return found[0].parent


def _check_checkpoint(path, config, origin):
    from pphumanseg.models.weights import check_weights_match, model_state_dict, read_state_dict

    state = read_state_dict(str(path))
    if config is None:
        return
    model = _build_model(config)
    check_weights_match(model, model_state_dict(model, state), origin)


def _build_model(config):
    from pphumanseg.core.complexity import build_model
    from pphumanseg.core.config import load_config

    if not config.is_file():
        raise UsageError(f"{config}: the released model's config is missing "
                         "(the zoo needs the repository's configs/)")
    with contextlib.redirect_stdout(io.StringIO()):  # paddleseg prints the model's fields
        return build_model(load_config(str(config)))


def _check_inference(folder, origin):
    from pphumanseg_deploy import Predictor
    from pphumanseg_deploy.errors import DeployError

    try:
        Predictor(str(folder), runtime="paddle")
    except DeployError as error:
        raise UsageError(f"{origin}: not a usable inference model ({error})") from None
    except Exception as error:  # Paddle Inference's own failures to parse a graph
        raise UsageError(f"{origin}: Paddle Inference cannot load it "
                         f"({type(error).__name__}: {str(error).splitlines()[0][:200]})") from None
