"""One teleconference video: a room, participants, maybe a passer-by and occluders, a camera.

``render_clip`` is the in-memory entry point used by the dataset writer, the video app and the
quick start.
"""
import cv2
import numpy as np

from .behaviour import Passerby, SeatedParticipant
from .camera import Camera, blur_moving_region
from .canvas import Canvas
from .occluders import Cup, DeskEdge, LaptopEdge, Microphone
from .person import Appearance, Person
from .presets import get_preset
from .room import Room


class Scene:
    """Everything of one video, built from one random generator; ``render(t)`` draws frame ``t``.

    Args:
        frame_size: (width, height) in pixels.
        frames: number of frames the motion is planned for.
        rng: a ``numpy.random.Generator``; the scene draws all its randomness from it here.
        preset: a ``Preset``.
    """

    def __init__(self, frame_size, frames, rng, preset):
        width, height = frame_size
        if width < 16 or height < 16:
            raise ValueError(f"frame size {width}x{height} is too small (at least 16x16)")
        self.frame_size = (width, height)
        texture_size = (2 * width, 2 * height)
        two = rng.random() < preset.two_participants
        if two:
            units = rng.uniform(0.2, 0.26, 2) * height
            necks = [(width * rng.uniform(0.2, 0.35), height * rng.uniform(0.55, 0.68)),
                     (width * rng.uniform(0.65, 0.8), height * rng.uniform(0.55, 0.68))]
        else:
            units = [rng.uniform(0.24, 0.34) * height]
            offset = rng.uniform(-preset.border_offset, preset.border_offset) * width
            necks = [(width / 2 + offset, height * rng.uniform(0.58, 0.72))]
        appearances = [Appearance(rng, texture_size) for _ in necks]
        self.room = Room(rng, frame_size, preset.hard_negatives, appearances[0].skin)
        self.people = []
        if rng.random() < preset.passerby:
            unit = rng.uniform(0.1, 0.15) * height
            look = Appearance(rng, texture_size)
            walker = Passerby(rng, frame_size, unit, frames)
            self.people.append(Person(look, walker, preset.finger_width, (width / 2, walker.y), unit))
        for look, neck, unit in zip(appearances, necks, units):
            motion = SeatedParticipant(rng, neck, unit, frames, preset.arm_poses)
            self.people.append(Person(look, motion, preset.finger_width, neck, unit))
        self.occluders = []
        main_x, main_unit = necks[0][0], units[0]
        if rng.random() < preset.occluders:
            self.occluders.append(DeskEdge(rng, frame_size))
        if rng.random() < preset.occluders:
            self.occluders.append(LaptopEdge(rng, frame_size))
        if rng.random() < preset.occluders:
            self.occluders.append(Microphone(rng, frame_size, main_x, main_unit))
        if rng.random() < preset.occluders:
            self.occluders.append(Cup(rng, frame_size, main_x))
        self.camera = Camera(rng, frame_size, frames, preset)
        # The room light casts a soft shadow of the people onto the wall and chair behind them.
        self.shadow_offset = (rng.uniform(-0.06, 0.06) * height, rng.uniform(0.01, 0.06) * height)
        self.shadow_strength = rng.uniform(0.15, 0.4)
        self.shadow_softness = rng.uniform(0.02, 0.05) * height
        # People lit differently from the room: backlit by a window, or lit by their screen.
        self.people_light = rng.uniform(0.6, 1.15) if rng.random() < 0.3 else 1.0

    def render(self, t, compress=True):
        """Frame ``t`` as (BGR uint8 HxWx3, mask uint8 HxW with 1 = person).

        With ``compress=False`` the frame is returned before the simulated video codec; encoding
        it as JPEG at ``camera.jpeg_quality`` then gives exactly the compressed frame.
        """
        width, height = self.frame_size
        image = self.room.image.copy()
        mask = np.zeros((height, width), np.uint8)
        canvas = Canvas(image, mask)
        for person in self.people:
            person.draw(canvas, t)
        relight(image, mask, self.people_light, self.shadow_offset, self.shadow_strength,
                self.shadow_softness)
        for person in self.people:
            # Hands move fastest: a third of the motion between neighbouring frames falls into one
            # exposure, capped so that a waving hand stays visible.
            for (before, unit), (after, _) in zip(person.hands(t - 0.5), person.hands(t + 0.5)):
                smear = 0.35 * (after - before)
                smear *= min(1.0, 0.15 * unit / max(np.hypot(*smear), 1e-6))
                blur_moving_region(image, (before + after) / 2, 0.5 * unit, smear)
        for occluder in self.occluders:
            occluder.draw(canvas)
        image, mask = self.camera.expose(image, mask, t)
        return (self.camera.compress(image) if compress else image), mask


def relight(image, mask, people_light, shadow_offset, shadow_strength, shadow_softness):
    """Scale the people's brightness by ``people_light`` and darken the room where their
    silhouette, shifted by ``shadow_offset`` and blurred, casts a shadow.

    A soft shadow has no detail, so it is computed at a quarter of the resolution.
    """
    height, width = mask.shape
    small = (max(width // 4, 1), max(height // 4, 1))
    shadow = cv2.resize(mask.astype(np.float32), small, interpolation=cv2.INTER_AREA)
    shift = np.array([[1, 0, shadow_offset[0] / 4], [0, 1, shadow_offset[1] / 4]], np.float32)
    shadow = cv2.warpAffine(shadow, shift, small, borderMode=cv2.BORDER_REPLICATE)
    shadow = cv2.GaussianBlur(shadow, (0, 0), max(shadow_softness / 4, 0.5))
    shade = 1 - shadow_strength * cv2.resize(shadow, (width, height), interpolation=cv2.INTER_LINEAR)
    shade[mask == 1] = people_light
    image[:] = np.clip(image * shade[..., None], 0, 255).astype(np.uint8)


def make_scene(size, frames, seed, preset):
    """The ``Scene`` that ``render_clip`` renders for these arguments."""
    if frames < 1:
        raise ValueError(f"frames must be at least 1, got {frames}")
    return Scene(tuple(int(v) for v in size), frames, np.random.default_rng(seed), get_preset(preset))


def render_clip(size=(398, 224), frames=30, seed=0, preset="default"):
    """Render one generated video in memory.

    Args:
        size: (width, height) of the frames, any size (e.g. (1280, 720)).
        frames: number of frames.
        seed: an int or a sequence of ints seeding ``numpy.random.default_rng``; the same
            arguments give identical frames.
        preset: a preset name from ``pphumanseg.synth.PRESETS``.

    Returns:
        an iterator of (frame, mask): BGR uint8 (H, W, 3) and uint8 (H, W) with 0 = background,
        1 = person. Bad arguments raise ValueError here, before any frame is rendered.
    """
    scene = make_scene(size, frames, seed, preset)
    return (scene.render(t) for t in range(frames))
