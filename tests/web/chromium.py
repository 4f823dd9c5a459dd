"""Debian's Chromium for the page tests: found on PATH or installed with apt-get, then started
headless (with a fake camera that plays a y4m clip) and driven through ``devtools.DevTools``."""
import base64
import os
import shutil
import subprocess
import time

import cv2

from devtools import DevTools

INSTALL_TIMEOUT_S = 900


def find_or_install():
    """(path to chromium, None), or (None, why it cannot be had) where it is missing and apt-get
    cannot install it (not root, no apt-get, no network)."""
    path = shutil.which("chromium")
    if path:
        return path, None
    if not shutil.which("apt-get") or os.geteuid() != 0:
        return None, "chromium is not installed and apt-get cannot be run as root here"
    start = time.monotonic()
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
            subprocess.run(command, check=True, capture_output=True, text=True, env=env, timeout=INSTALL_TIMEOUT_S)
    except subprocess.CalledProcessError as error:
        last_line = (error.stderr or error.stdout or "").strip().splitlines()[-1:] or ["no output"]
        return None, f"'{' '.join(error.cmd)}' failed: {last_line[0]}"
    except subprocess.TimeoutExpired as error:
        return None, f"'{' '.join(error.cmd)}' took over {INSTALL_TIMEOUT_S} s"
    print(f"installed Debian's chromium in {time.monotonic() - start:.0f} s")
    return shutil.which("chromium"), None


def write_y4m(path, frames_bgr, fps=30):
    """A y4m clip (I420) of BGR frames, the format of Chromium's file-fed fake camera."""
    height, width = frames_bgr[0].shape[:2]
    with open(path, "wb") as file:
        file.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames_bgr:
            file.write(b"FRAME\n")
            file.write(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())


class Chromium:
    """A headless Chromium; ``devtools`` and ``page`` (the session id of its one tab) drive it.
    Use as a context manager.

    Args:
        executable (str): The chromium command.
        profile (str): An empty folder for the browser's profile.
        clip (str|None): y4m file the fake camera plays; None: no camera at all.
        allow_camera (bool): Grant camera requests (headless Chromium denies them otherwise).
    """

    def __init__(self, executable, profile, clip=None, allow_camera=True):
        camera = ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={clip}"] if clip else []
        if allow_camera:
            camera.append("--use-fake-ui-for-media-stream")
        self.command = [
            executable, "--headless=new", "--no-sandbox", "--disable-gpu", *camera, "--remote-debugging-pipe",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--disable-quic", f"--user-data-dir={profile}", "--window-size=720,760",
            "about:blank"]

    def __enter__(self):
        commands_read, commands_write = os.pipe()
        answers_read, answers_write = os.pipe()
        # The browser reads commands on fd 3 and writes answers on fd 4.
        self.process = subprocess.Popen(
            ["bash", "-c", f'exec "$@" 3<&{commands_read} 4>&{answers_write}', "chromium", *self.command],
            pass_fds=(commands_read, answers_write), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(commands_read)
        os.close(answers_write)
        self.fds = (commands_write, answers_read)
        self.devtools = DevTools(commands_write, answers_read)
        try:
            targets = self.devtools.call("Target.getTargets")["targetInfos"]
            page = next(target for target in targets if target["type"] == "page")
            self.page = self.devtools.attach(page["targetId"])
            for domain in ("Runtime", "Page"):
                self.devtools.call(f"{domain}.enable", session=self.page)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def navigate(self, url):
        """Opens ``url`` in the tab and waits for its load event."""
        since = len(self.devtools.events)
        self.devtools.call("Page.navigate", {"url": url}, session=self.page)
        self.devtools.wait_for_event("Page.loadEventFired", since)

    def wait_for(self, expression, timeout):
        """Polls a JavaScript expression until it is truthy; its value, or None after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.devtools.evaluate(expression, self.page)
            if value:
                return value
            time.sleep(0.2)
        return None

    def screenshot(self):
        """PNG bytes of the page as shown."""
        data = self.devtools.call("Page.captureScreenshot", {"format": "png"}, session=self.page)["data"]
        return base64.b64decode(data)

    def __exit__(self, *exc_info):
        try:
            self.devtools.call("Browser.close", timeout=5)
        except Exception:
            pass  # already gone, or stuck: terminated below
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in self.fds:
            os.close(fd)
