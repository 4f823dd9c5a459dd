"""Downloading one file over HTTP(S) with a progress bar, complete or not at all."""
import http.client
import os
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from tqdm import tqdm

from pphumanseg.utils.atomic_write import atomic_write
from pphumanseg.utils.errors import UsageError

CHUNK_BYTES = 1 << 16
TIMEOUT_SECONDS = 30


def download(url, folder, remedy):
    """Downloads ``url`` into ``folder`` through a temporary file renamed when complete.

    Args:
        url (str): the file to fetch.
        folder (pathlib.Path): where it goes; its name is the URL's last path component.
        remedy (str): what the user can do instead, appended to every error.

    Returns:
        pathlib.Path: the downloaded file.

    Raises:
        UsageError: one line naming the URL, the reason and ``remedy``; nothing is left behind.
    """
    target = Path(folder) / (Path(urlparse(url).path).name or "download")

    def fetch(temporary):
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            expected = int(response.headers.get("Content-Length") or 0) or None
            with open(temporary, "wb") as file, tqdm(total=expected, unit="B", unit_scale=True,
                                                     desc=target.name) as progress:
                while chunk := response.read(CHUNK_BYTES):
                    file.write(chunk)
                    progress.update(len(chunk))
        received = os.path.getsize(temporary)
        if expected is not None and received != expected:
            raise UsageError(f"cannot download {url}: truncated ({received} of {expected} "
                             f"bytes); {remedy}")

    try:
        atomic_write(str(target), fetch)
    except (OSError, http.client.HTTPException, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise UsageError(f"cannot download {url} ({reason}); {remedy}") from None
    return target
