"""Write a file through a temporary name in the same folder, so readers never see it partial."""
import os


def atomic_write(path, writer):
    """Calls ``writer(temporary_path)`` and renames the result to ``path``.

    The temporary name keeps ``path``'s extension (OpenCV picks its encoder from it). The folder
    is created if needed; on any failure, including ``writer`` returning False (as ``cv2.imwrite``
    does), the temporary file is removed and ``path`` is left as it was.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    root, extension = os.path.splitext(path)
    temporary = f"{root}.tmp{extension}"
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
