"""Files and directories that readers see complete or not at all.

A file is written under a hidden temporary name in its folder (``.partial.<name>``, which keeps
the extension: OpenCV picks its encoder from it) and renamed into place. A directory is built in
a hidden staging directory beside it (``.<name>.<random>.tmp``) and renamed into place; an older
directory of that name is first moved aside into ``.<name>.<random>.old/previous``, and
:func:`recover_directories` puts it back if a kill came between the two renames.
"""
import contextlib
import glob
import os
import shutil
import tempfile

def atomic_write(path, writer):
    """Calls ``writer(temporary_path)`` and renames the result to ``path``.

    The folder is created if needed; on any failure, including ``writer`` returning False (as
    ``cv2.imwrite`` does), the temporary file is removed and ``path`` is left as it was.
    """
    folder, name = os.path.split(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    temporary = os.path.join(folder, f".partial.{name}")
    try:
        if writer(temporary) is False:
            raise OSError(f"{path}: cannot write")
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def atomic_write_text(path, text):
    def write(temporary):
        with open(temporary, "w") as handle:
            handle.write(text)

    atomic_write(path, write)


@contextlib.contextmanager
def staging_directory(target):
    """Yields a new hidden directory beside ``target`` to build it in; whatever is left of it when
    the block ends (everything, unless it was renamed into place) is removed."""
    parent = os.path.dirname(os.path.abspath(target))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=parent)
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def replace_directory(source, target):
    """Renames ``source`` to ``target``; an existing ``target`` is moved aside first, then removed."""
    if not os.path.exists(target):
        os.rename(source, target)
        return
    retired = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.", suffix=".old",
                               dir=os.path.dirname(os.path.abspath(target)))
    os.rename(target, os.path.join(retired, "previous"))
    os.rename(source, target)
    shutil.rmtree(retired, ignore_errors=True)


def recover_directories(parent):
    """Repairs what killed writers left in ``parent``: a directory moved aside by
    :func:`replace_directory` whose replacement never arrived is renamed back, and every other
    staging or retired directory is deleted."""
    if not os.path.isdir(parent):
        return
    for retired in sorted(glob.glob(os.path.join(parent, ".*.old"))):
        target = os.path.join(parent, os.path.basename(retired)[1:].rsplit(".", 2)[0])
        previous = os.path.join(retired, "previous")
        if not os.path.exists(target) and os.path.isdir(previous):
            os.rename(previous, target)
    for name in os.listdir(parent):
        if name.startswith(".") and name.endswith((".tmp", ".old")):
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)
