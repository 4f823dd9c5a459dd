"""Background replacement on images, image directories, videos and cameras.

Used by ``pphumanseg infer`` and by ``deploy/python/infer.py`` (for users who copy deploy/ alone);
both share ``add_arguments`` and ``run_from_args``. For every input it writes the composite and
the soft mask (alpha x 255): ``--save out.png`` gives ``out.png`` + ``out_mask.png``; ``--save
out.mp4`` gives ``out.mp4`` + ``out_mask.mp4``; a directory input writes ``<stem>.png`` +
``<stem>_mask.png`` per image into the ``--save`` directory. Every file is written under a
temporary name and renamed only when complete.

The alpha is the network's probability map, quantised to 8 bits and upsampled bilinearly to the
frame (a soft edge, not a nearest-neighbour hard mask). ``--flow`` smooths it over time (see
``flow.FlowSmoother``, videos and cameras only); ``--post`` sharpens it
(``compositing.sharpen_alpha``); ``--vertical`` rotates portrait-orientation frames by 90 degrees
before the landscape model sees them.
"""
import argparse
import os
import queue
import sys
import threading
import time

import cv2

from .compositing import (IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, alpha_image, composite, parse_background,
                          sharpen_alpha)
from .errors import DeployError
from .flow import FlowSmoother
from .predictor import RUNTIMES, Predictor

CAMERA_PREFIX = "camera:"
VIDEO_CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}
# One core is left to the decoding and encoding threads: on 2 cores, 1 model thread writes 720p
# video faster than 2 (deploy/README.md, "The live path").
DEFAULT_THREADS = max(1, min(4, (os.cpu_count() or 1) - 1))


class _StageClock:
    """Records the milliseconds since the previous call under each stage name into ``timings``
    (a dict), or does nothing when ``timings`` is None."""

    def __init__(self, timings):
        self.timings = timings
        self.last = time.perf_counter() if timings is not None else None

    def __call__(self, stage):
        if self.timings is not None:
            now = time.perf_counter()
            self.timings[stage] = (now - self.last) * 1000.0
            self.last = now


class BackgroundReplacer:
    """Turns frames into (composite, alpha) with one predictor.

    Each frame is scaled down once, to the network's input size; the network, the optical flow
    and the blur background all work from that image, and only the alpha and the composite are
    computed at the frame's resolution.

    Args:
        predictor (Predictor): The model.
        background (callable): (frame, preview) -> background image of the frame's size (see
            compositing).
        flow (bool): Smooth the mask over consecutive frames with optical flow.
        post (bool): Sharpen the mask with ``sharpen_alpha``.
        vertical (bool): Frames are portrait-oriented: rotate them for the landscape model.
    """

    STAGES = ("pre", "model", "flow", "upsample", "background", "composite")

    def __init__(self, predictor, background, flow=False, post=False, vertical=False):
        self.predictor = predictor
        self.background = background
        self.smoother = FlowSmoother() if flow else None
        self.post = post
        self.vertical = vertical

    def reset(self):
        """Starts a new, unrelated sequence (the flow history is dropped)."""
        if self.smoother is not None:
            self.smoother.reset()

    def __call__(self, frame, timings=None):
        """(composite, alpha) of a BGR uint8 frame; alpha is (H, W) uint8, 0-255.

        Args:
            timings (dict|None): Receives the milliseconds of each of ``STAGES`` (benchmarks).
        """
        clock = _StageClock(timings)
        view = cv2.rotate(frame, cv2.ROTATE_90_CLOCKWISE) if self.vertical else frame
        network_view = self.predictor.preprocess.resize(view)
        batch = self.predictor.preprocess(network_view)
        clock("pre")
        probability = self.predictor.probability(batch)
        clock("model")
        if self.smoother is not None:
            probability = self.smoother(network_view, probability)
        if self.post:
            probability = sharpen_alpha(probability)
        clock("flow")
        preview = network_view
        if self.vertical:
            probability = cv2.rotate(probability, cv2.ROTATE_90_COUNTERCLOCKWISE)
            preview = cv2.rotate(network_view, cv2.ROTATE_90_COUNTERCLOCKWISE)
        alpha = alpha_image(probability, frame.shape[1], frame.shape[0])
        clock("upsample")
        background = self.background(frame, preview)
        clock("background")
        result = composite(frame, alpha, background)
        clock("composite")
        return result, alpha


def _partial_path(path):
    # The temporary name keeps the extension, which OpenCV uses to choose the encoder.
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".partial.{name}")


def _mask_path(path):
    stem, extension = os.path.splitext(path)
    return f"{stem}_mask{extension}"


def _check_writable_folder(folder, flag="--save"):
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise DeployError(f"{flag} {folder}: cannot create the folder ({error.strerror})") from None
    if not os.access(folder, os.W_OK):
        raise DeployError(f"{flag} {folder}: folder is not writable")


def _write_image(path, image):
    partial = _partial_path(path)
    if not cv2.imwrite(partial, image):
        raise DeployError(f"--save {path}: could not write the image")
    os.replace(partial, path)


def process_image(replacer, image_path, save_path):
    frame = cv2.imread(image_path, cv2.IMREAD_COLOR)
    if frame is None:
        raise DeployError(f"--input {image_path}: not a readable image")
    replacer.reset()
    result, alpha = replacer(frame)
    _write_image(save_path, result)
    _write_image(_mask_path(save_path), alpha)
    return [save_path, _mask_path(save_path)]


def process_directory(replacer, folder, save_folder):
    names = sorted(name for name in os.listdir(folder) if name.lower().endswith(IMAGE_EXTENSIONS))
    if not names:
        raise DeployError(f"--input {folder}: no images ({', '.join(IMAGE_EXTENSIONS)}) in the folder")
    stems = [os.path.splitext(name)[0] for name in names]
    clashing = sorted({stem for stem in stems if stems.count(stem) > 1})
    if clashing:
        raise DeployError(f"--input {folder}: several images named {clashing[0]}.* would write the same "
                          f"{clashing[0]}.png")
    _check_writable_folder(save_folder)
    if os.path.samefile(folder, save_folder):
        raise DeployError(f"--save {save_folder}: is the input folder; its images would be overwritten")
    written = []
    for name, stem in zip(names, stems):
        written += process_image(replacer, os.path.join(folder, name), os.path.join(save_folder, stem + ".png"))
    return written


class _VideoOutput:
    """The composite and mask videos, written under temporary names until ``close``.

    Encoding runs in a worker thread (OpenCV releases the GIL), overlapping the next prediction.
    """

    def __init__(self, save_path, fps, size):
        extension = os.path.splitext(save_path)[1].lower()
        fourcc = cv2.VideoWriter_fourcc(*VIDEO_CODECS[extension])
        self.finals = [save_path, _mask_path(save_path)]
        self.partials = [_partial_path(path) for path in self.finals]
        self.writers = [cv2.VideoWriter(path, fourcc, fps, size) for path in self.partials]
        if not all(writer.isOpened() for writer in self.writers):
            self._release_and_remove()
            raise DeployError(f"--save {save_path}: could not open a video writer")
        self.pending = queue.Queue(maxsize=4)
        self.encoder_error = None
        self.worker = threading.Thread(target=self._encode, daemon=True)
        self.worker.start()

    def _encode(self):
        while True:
            item = self.pending.get()
            if item is None:
                return
            if self.encoder_error is not None:
                continue  # keep draining so that write() never blocks on a full queue
            result, alpha = item
            try:
                self.writers[0].write(result)
                self.writers[1].write(cv2.cvtColor(alpha, cv2.COLOR_GRAY2BGR))
            except Exception as error:  # re-raised in the caller's thread by write() / close()
                self.encoder_error = error

    def _raise_encoder_error(self):
        if self.encoder_error is not None:
            raise DeployError(f"--save {self.finals[0]}: encoding failed ({self.encoder_error})")

    def write(self, result, alpha):
        self._raise_encoder_error()
        self.pending.put((result, alpha))

    def _finish_encoding(self):
        self.pending.put(None)
        self.worker.join()

    def close(self):
        self._finish_encoding()
        if self.encoder_error is not None:
            self._release_and_remove()
            self._raise_encoder_error()
        for writer in self.writers:
            writer.release()
        for partial, final in zip(self.partials, self.finals):
            os.replace(partial, final)
        return self.finals

    def discard(self):
        self._finish_encoding()
        self._release_and_remove()

    def _release_and_remove(self):
        for writer, partial in zip(self.writers, self.partials):
            writer.release()
            if os.path.exists(partial):
                os.remove(partial)


def _read_ahead(capture, first):
    """Yields ``first`` and then the capture's frames, decoding the next frame in a thread while
    the caller works on the current one."""
    frames = queue.Queue(maxsize=4)
    stop = threading.Event()

    def read():
        ok = True
        while ok and not stop.is_set():
            ok, frame = capture.read()
            frames.put(frame if ok else None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        frame = first
        while frame is not None:
            yield frame
            frame = frames.get()
    finally:
        stop.set()
        while reader.is_alive():  # unblock a reader waiting on a full queue
            try:
                frames.get(timeout=0.1)
            except queue.Empty:
                pass


def process_stream(replacer, capture, name, save_path, progress=True, stop_on_interrupt=False):
    """Runs a video or camera capture to its end into ``save_path``.

    With ``stop_on_interrupt`` (cameras) Ctrl+C ends the recording and keeps what was written.
    """
    from tqdm import tqdm

    ok, first = capture.read()
    if not ok:
        raise DeployError(f"--input {name}: no readable frames")
    fps = capture.get(cv2.CAP_PROP_FPS)
    fps = fps if 0 < fps < 1000 else 30.0
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    output = _VideoOutput(save_path, fps, (first.shape[1], first.shape[0]))
    replacer.reset()
    frames = 0
    start = time.perf_counter()
    try:
        with tqdm(total=total if total > 0 else None, unit="frame", disable=not progress,
                  desc=os.path.basename(name)) as bar:
            try:
                for frame in _read_ahead(capture, first):
                    output.write(*replacer(frame))
                    frames += 1
                    bar.update(1)
            except KeyboardInterrupt:
                if not stop_on_interrupt:
                    raise
    except BaseException:
        output.discard()
        raise
    written = output.close()
    return written, frames, time.perf_counter() - start


def _check_save(save, extensions, kind):
    if not save.lower().endswith(extensions):
        raise DeployError(f"--save {save}: a {kind} output needs one of {', '.join(extensions)}")
    _check_writable_folder(os.path.dirname(os.path.abspath(save)))


def run(model_dir, input, save, bg=None, flow=False, post=False, vertical=False, runtime="paddle",
        threads=1, use_gpu=False, progress=True):
    """Background replacement for one input; returns {'outputs', 'frames', 'seconds', 'fps'}.

    Args are those of the command line (see ``add_arguments``); ``input`` is an image, a folder of
    images, a video, or ``camera:N``.
    """
    if input.startswith(CAMERA_PREFIX):
        kind = "camera"
    elif os.path.isdir(input):
        kind = "directory"
    elif not os.path.isfile(input):
        raise DeployError(f"--input {input}: no such file or folder (or use camera:N)")
    elif input.lower().endswith(VIDEO_EXTENSIONS):
        kind = "video"
    elif input.lower().endswith(IMAGE_EXTENSIONS):
        kind = "image"
    else:
        raise DeployError(f"--input {input}: unknown type (image: {', '.join(IMAGE_EXTENSIONS)}; "
                          f"video: {', '.join(VIDEO_EXTENSIONS)})")
    if kind in ("video", "camera"):
        _check_save(save, tuple(VIDEO_CODECS), "video")
    elif kind == "image":
        _check_save(save, IMAGE_EXTENSIONS, "image")
    replacer = BackgroundReplacer(Predictor(model_dir, runtime=runtime, threads=threads, use_gpu=use_gpu),
                                  parse_background(bg), flow=flow, post=post, vertical=vertical)
    start = time.perf_counter()
    if kind == "image":
        outputs, frames = process_image(replacer, input, save), 1
    elif kind == "directory":
        outputs = process_directory(replacer, input, save)
        frames = len(outputs) // 2
    else:
        if kind == "camera":
            index = input[len(CAMERA_PREFIX):]
            if not index.isdigit():
                raise DeployError(f"--input {input}: expected camera:N with a device number N")
            capture = cv2.VideoCapture(int(index))
            if not capture.isOpened():
                raise DeployError(f"--input {input}: camera {index} is not available")
        else:
            capture = cv2.VideoCapture(input)
            if not capture.isOpened():
                raise DeployError(f"--input {input}: not a readable video")
        try:
            outputs, frames, seconds = process_stream(replacer, capture, input, save, progress,
                                                      stop_on_interrupt=kind == "camera")
        finally:
            capture.release()
        return {"outputs": outputs, "frames": frames, "seconds": seconds, "fps": frames / seconds}
    seconds = time.perf_counter() - start
    return {"outputs": outputs, "frames": frames, "seconds": seconds, "fps": frames / seconds}


def add_arguments(parser):
    parser.add_argument("--model_dir", required=True, help="exported model directory (deploy.yaml)")
    parser.add_argument("--input", required=True, help="image, folder of images, video, or camera:N")
    parser.add_argument("--save", required=True,
                        help="output image/video path (a folder for a folder input); masks go beside it")
    parser.add_argument("--bg", help="background: image, video, #RRGGBB or 'blur' (default white)")
    parser.add_argument("--flow", action="store_true", help="optical-flow temporal smoothing (videos, cameras)")
    parser.add_argument("--post", action="store_true", help="sharpen the soft mask (0.2..0.8 -> 0..1)")
    parser.add_argument("--vertical", action="store_true", help="input is portrait-oriented (rotated for the model)")
    parser.add_argument("--runtime", choices=RUNTIMES, default="paddle",
                        help="paddle (Paddle Inference), onnx (model.onnx) or lite (model_x86.nb/model_arm.nb)")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help="model threads (default: the cores but one, at most 4)")
    parser.add_argument("--use_gpu", action="store_true", help="run the model on GPU 0 (paddle, onnx)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run_from_args(args):
    summary = run(args.model_dir, args.input, args.save, bg=args.bg, flow=args.flow, post=args.post,
                  vertical=args.vertical, runtime=args.runtime, threads=args.threads,
                  use_gpu=args.use_gpu, progress=not args.quiet)
    print(f"{summary['frames']} frame(s), {summary['fps']:.1f} frames/s; wrote "
          + ", ".join(summary["outputs"][:4]) + (" ..." if len(summary["outputs"]) > 4 else ""))
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(prog="infer.py", description="PP-HumanSeg background replacement")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        run_from_args(args)
    except DeployError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
