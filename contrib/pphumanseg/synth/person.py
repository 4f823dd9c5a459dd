"""A conference participant or passer-by: appearance, pose and drawing.

Geometry is expressed in the person's head height ``unit`` (pixels) around the base of the neck,
so the same person can be drawn at any frame size. Every body part is drawn with label 1 through
``Canvas``, which makes the mask the exact silhouette. Worn things (hair, glasses, headset,
collar) are labelled person too; facial features and shading are drawn on the image only and
stay inside the silhouette (``tests/synth`` checks this).
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .textures import FABRIC_PATTERNS, fabric

# Arm poses: (upper-arm angle, forearm angle, wave amplitude, finger spread). Angles are radians
# from straight down, positive away from the body, so pi points up.
ARM_POSES = {
    "rest": (0.12, 0.05, 0.0, 0.15),
    "desk": (0.08, -1.5, 0.0, 0.1),
    "gesture": (0.45, -2.35, 0.18, 0.45),
    "wave": (1.35, 2.8, 0.45, 0.35),
    "chin": (0.3, -2.8, 0.0, 0.15),
    "raised": (0.2, -2.55, 0.08, 0.6),
}

SKIN_TONES = np.array([(70, 90, 130), (95, 125, 175), (125, 160, 205), (160, 190, 230),
                       (185, 205, 240)], np.float64)
HAIR_COLORS = np.array([(22, 22, 28), (30, 45, 70), (45, 75, 115), (100, 160, 205),
                        (145, 145, 150), (40, 70, 150)], np.float64)
HAIR_STYLES = ("short", "long", "bun", "bald", "curly")


def _rotate(vector, angle):
    cos, sin = np.cos(angle), np.sin(angle)
    return np.array([cos * vector[0] - sin * vector[1], sin * vector[0] + cos * vector[1]])


def _direction(side, angle):
    """Unit vector for an angle measured from straight down, mirrored by ``side`` (-1 left, +1 right)."""
    return np.array([side * np.sin(angle), np.cos(angle)])


def _shade(color, factor):
    return tuple(float(min(255.0, c * factor)) for c in color)


def arm_joints(neck, unit, side, arm):
    """(shoulder, elbow, wrist) pixel positions of the arm on ``side`` for an arm pose triple."""
    upper_angle, fore_angle, _ = arm
    shoulder = neck + (side * 0.93 * unit, 0.42 * unit)
    elbow = shoulder + 1.25 * unit * _direction(side, upper_angle)
    return shoulder, elbow, elbow + 1.05 * unit * _direction(side, fore_angle)


def _shade_body(texture, origin, unit):
    """Clothing texture darkened towards the flanks and downwards, centred where the neck maps.

    The texture is twice the frame size (see ``Scene``), so frame pixel (0, 0) sits a quarter in.
    """
    height, width = texture.shape[:2]
    center_x = origin[0] + width // 4
    center_y = origin[1] + height // 4
    x = np.abs(np.arange(width, dtype=np.float32) - center_x) / (1.15 * unit)
    y = np.clip((np.arange(height, dtype=np.float32) - center_y) / (3.0 * unit), 0, 1)
    shading = 1.0 - 0.35 * np.clip(x, 0, 1)[None, :] ** 2 - 0.2 * y[:, None]
    return (texture * shading[..., None]).astype(np.uint8)


@dataclass
class Pose:
    """Where a person is and what they do in one frame.

    ``neck`` is the base of the neck in pixels, ``unit`` the head height in pixels, ``roll`` the
    head tilt in degrees, ``turn`` in [-1, 1] the head turning left/right, ``mouth`` in [0, 1] how
    open the mouth is, ``arms`` two (upper, forearm, spread) triples for the image-left and
    image-right arm, ``blink`` whether the eyes are closed, ``stride`` None for someone seated
    (the body continues out of the frame) or the walking phase in radians (body ends at the hips,
    legs swing).
    """

    neck: np.ndarray
    unit: float
    roll: float
    turn: float
    mouth: float
    blink: bool
    arms: tuple
    stride: Optional[float] = None


class Appearance:
    """How a person looks, drawn from ``rng``: skin, hair, clothes, accessories.

    Args:
        rng: the video's ``numpy.random.Generator``.
        texture_size: (width, height) of the clothing texture; it must cover the frame plus the
            largest offset the person moves by.
    """

    def __init__(self, rng, texture_size):
        weight = rng.uniform(0, len(SKIN_TONES) - 1)
        low = int(weight)
        high = min(low + 1, len(SKIN_TONES) - 1)
        skin = SKIN_TONES[low] + (weight - low) * (SKIN_TONES[high] - SKIN_TONES[low])
        self.skin = tuple(np.clip(skin + rng.uniform(-10, 10, 3), 0, 255))
        self.hair = tuple(np.clip(HAIR_COLORS[rng.integers(len(HAIR_COLORS))] + rng.uniform(-8, 8, 3),
                                  0, 255))
        self.hair_style = HAIR_STYLES[rng.integers(len(HAIR_STYLES))]
        # Clothes are sometimes skin- or wall-coloured on purpose: those are the hard cases.
        if rng.random() < 0.2:
            shirt = np.asarray(self.skin) * rng.uniform(0.9, 1.15)
        else:
            shirt = rng.uniform(20, 235, 3)
        self.shirt = tuple(np.clip(shirt, 0, 255))
        self.pattern = FABRIC_PATTERNS[rng.integers(len(FABRIC_PATTERNS))]
        self.texture = fabric(rng, texture_size[1], texture_size[0], self.shirt, self.pattern)
        self.trousers = tuple(rng.uniform(25, 110) * rng.uniform(0.8, 1.2, 3))
        self.long_sleeves = rng.random() < 0.6
        self.collar = ("round", "v", "shirt")[rng.integers(3)]
        self.glasses = rng.random() < 0.3
        self.beard = rng.random() < 0.2
        self.headset = rng.random() < 0.2
        self.iris = tuple(rng.uniform(15, 60) * np.array([1.0, 1.2, 1.4]))
        self.lips = tuple(np.clip(np.asarray(self.skin) * np.array([0.75, 0.7, 1.0]) - 20, 0, 255))


class Person:
    """Draws one person from a motion (frame -> ``Pose`` or None when not in view).

    Args:
        appearance: how the person looks.
        motion: callable mapping a frame index to a ``Pose``, or None while out of view.
        finger_width: finger thickness as a fraction of the head height.
        texture_origin: pixel position of the neck at which the clothing texture is centred.
        unit: head height in pixels at rest, to shade the clothes like a rounded body.
    """

    def __init__(self, appearance, motion, finger_width, texture_origin, unit):
        self.look = appearance
        self.motion = motion
        self.finger_width = finger_width
        self.texture_origin = np.asarray(texture_origin, np.float64)
        self.texture = _shade_body(appearance.texture, self.texture_origin, unit)

    def draw(self, canvas, t):
        pose = self.motion(t)
        if pose is None:
            return
        look, u = self.look, pose.unit
        neck = pose.neck
        head = neck + _rotate(np.array([0.0, -0.6 * u]), np.deg2rad(pose.roll))
        if look.hair_style == "long":
            self._draw_long_hair(canvas, head, neck, u)
        canvas.polygon([neck + (-0.17 * u, -0.4 * u), neck + (0.17 * u, -0.4 * u),
                        neck + (0.2 * u, 0.05 * u), neck + (-0.2 * u, 0.05 * u)],
                       _shade(look.skin, 0.85), label=1)
        canvas.ellipse(neck + (0, -0.3 * u), (0.15 * u, 0.08 * u), 0, _shade(look.skin, 0.65))
        if pose.stride is not None:
            self._draw_legs(canvas, neck, u, pose.stride, np.sign(pose.turn))
        self._draw_torso(canvas, neck, u, bottom=6.0 if pose.stride is None else 2.9)
        self._draw_head(canvas, head, u, pose)
        for side, arm in zip((-1, 1), pose.arms):
            self._draw_arm(canvas, side, arm_joints(neck, u, side, arm), arm[2], u)

    def _texture_view(self, canvas, neck):
        texture = self.texture
        pad_y = (texture.shape[0] - canvas.height) // 2
        pad_x = (texture.shape[1] - canvas.width) // 2
        dx, dy = np.round(neck - self.texture_origin).astype(int)
        x0 = int(np.clip(pad_x - dx, 0, 2 * pad_x))
        y0 = int(np.clip(pad_y - dy, 0, 2 * pad_y))
        return texture[y0:y0 + canvas.height, x0:x0 + canvas.width]

    def _draw_long_hair(self, canvas, head, neck, u):
        hair = self.look.hair
        canvas.polygon([head + (-0.42 * u, -0.1 * u), head + (0.42 * u, -0.1 * u),
                        neck + (0.55 * u, 0.35 * u), neck + (-0.55 * u, 0.35 * u)],
                       _shade(hair, 0.85), label=1)

    def _draw_legs(self, canvas, neck, u, stride, facing):
        trousers = self.look.trousers
        for side, swing in ((-1, np.sin(stride)), (1, -np.sin(stride))):
            hip = neck + (side * 0.2 * u, 2.7 * u)
            knee = hip + 1.6 * u * np.array([0.35 * swing, 1.0])
            ankle = knee + 1.5 * u * np.array([0.2 * swing, 1.0])
            canvas.line(hip, knee, 0.55 * u, trousers, label=1)
            canvas.line(knee, ankle, 0.45 * u, trousers, label=1)
            canvas.ellipse(ankle + (0.12 * u * facing, 0.05 * u), (0.28 * u, 0.12 * u), 0,
                           (30, 30, 35), label=1)

    def _draw_torso(self, canvas, neck, u, bottom):
        # Half an outline from the collar over the shoulder down to ``bottom`` head heights.
        half = np.array([(0.28, -0.08), (0.6, 0.05), (0.84, 0.16), (0.98, 0.31), (1.06, 0.5),
                         (1.12, 1.2), (1.12, bottom)])
        outline = [neck + (x * u, y * u) for x, y in half[::-1] * (-1, 1)]
        outline += [neck + (x * u, y * u) for x, y in half]
        look = self.look
        canvas.polygon(outline, _shade(look.shirt, 0.6), label=1)
        inner = [neck + (x * u * 0.985, y * u + 0.01 * u) for x, y in half[::-1] * (-1, 1)]
        inner += [neck + (x * u * 0.985, y * u + 0.01 * u) for x, y in half]
        canvas.textured_polygon(inner, self._texture_view(canvas, neck))
        if look.collar == "v":
            canvas.polygon([neck + (-0.22 * u, -0.07 * u), neck + (0.22 * u, -0.07 * u),
                            neck + (0, 0.42 * u)], _shade(look.skin, 0.85), label=1)
        elif look.collar == "round":
            canvas.ellipse(neck + (0, -0.04 * u), (0.24 * u, 0.12 * u), 0, _shade(look.skin, 0.85),
                           label=1, arc=(0, 180))
        else:
            white = (235, 235, 235)
            for side in (-1, 1):
                canvas.polygon([neck + (side * 0.05 * u, 0.02 * u), neck + (side * 0.3 * u, -0.07 * u),
                                neck + (side * 0.25 * u, 0.25 * u)], white, label=1)

    def _draw_head(self, canvas, head, u, pose):
        look = self.look
        roll = np.deg2rad(pose.roll)

        def at(dx, dy):
            return head + _rotate(np.array([dx * u, dy * u]), roll)

        turn = pose.turn
        shift = 0.1 * turn
        skin = look.skin
        for side in (-1, 1):
            if side * turn < 0.6:
                canvas.ellipse(at(side * (0.36 - 0.05 * side * turn), 0.02), (0.07 * u, 0.12 * u),
                               pose.roll, _shade(skin, 0.9), label=1)
        self._draw_hair_back(canvas, at, u, pose.roll)
        face_width = 0.35 - 0.04 * abs(turn)
        canvas.ellipse(at(0, 0.02), (face_width * u, 0.48 * u), pose.roll, _shade(skin, 0.9), label=1)
        # Light falls from one side: the lit part of the face, kept inside the face outline.
        lit_x = float(np.clip(-0.04 + 0.25 * shift, -0.28 * face_width, 0.28 * face_width))
        canvas.ellipse(at(lit_x, 0.0), (0.7 * face_width * u, 0.41 * u), pose.roll, skin)
        self._draw_hair_front(canvas, at, u, pose.roll, shift)
        if look.beard:
            canvas.ellipse(at(shift, 0.22), (0.3 * u, 0.26 * u), pose.roll, _shade(look.hair, 1.1),
                           label=1, arc=(0, 180))
        self._draw_face(canvas, at, u, pose, shift)
        if look.headset:
            dark = (35, 35, 40)
            canvas.ring(at(0, -0.05), (0.42 * u, 0.52 * u), pose.roll, max(2.0, 0.06 * u), dark,
                        label=1, arc=(180, 360))
            canvas.ellipse(at(-0.4, 0.0), (0.08 * u, 0.14 * u), pose.roll, dark, label=1)
            canvas.line(at(-0.4, 0.05), at(-0.08 + shift, 0.3), max(1.0, 0.03 * u), dark, label=1)

    def _draw_hair_back(self, canvas, at, u, roll):
        """Hair behind the face: the skull cap, curls around it, a bun on top."""
        style, hair = self.look.hair_style, self.look.hair
        if style == "bald":
            canvas.ellipse(at(0, -0.02), (0.37 * u, 0.3 * u), roll, _shade(hair, 1.05), label=1,
                           arc=(200, 340))
            return
        canvas.ellipse(at(0, -0.14), (0.41 * u, 0.4 * u), roll, hair, label=1)
        # Strands and a sheen, inside the cap so the silhouette is unchanged.
        strand = max(1.0, 0.02 * u)
        for scale, tone in ((0.85, 0.7), (0.7, 1.3), (0.55, 0.8)):
            canvas.ring(at(0, -0.14), (0.41 * scale * u, 0.4 * scale * u), roll, strand,
                        _shade(hair, tone) if tone < 1 else _shade(np.asarray(hair) + 25, tone),
                        arc=(200, 340))
        if style == "curly":
            for angle in np.linspace(-200, 20, 9):
                radians = np.deg2rad(angle)
                canvas.ellipse(at(0.4 * np.cos(radians), -0.12 + 0.4 * np.sin(radians)),
                               (0.11 * u, 0.11 * u), roll, _shade(hair, 0.95), label=1)
        elif style == "bun":
            canvas.ellipse(at(-0.05, -0.58), (0.17 * u, 0.13 * u), roll, hair, label=1)

    def _draw_hair_front(self, canvas, at, u, roll, shift):
        """Hair over the forehead (and locks down the sides for long hair)."""
        style, hair = self.look.hair_style, self.look.hair
        if style == "bald":
            return
        canvas.ellipse(at(0.02 * shift, -0.27), (0.37 * u, 0.19 * u), roll, hair, label=1,
                       arc=(180, 360))
        canvas.ellipse(at(0.15 + shift, -0.28), (0.24 * u, 0.08 * u), roll - 15, hair, label=1)
        if style == "long":
            for side in (-1, 1):
                canvas.polygon([at(side * 0.3, -0.3), at(side * 0.42, -0.1), at(side * 0.45, 0.55),
                                at(side * 0.3, 0.5), at(side * 0.32, 0.0)], hair, label=1)

    def _draw_face(self, canvas, at, u, pose, shift):
        look = self.look
        brow = max(1.0, 0.035 * u)
        for side in (-1, 1):
            eye = at(side * 0.15 + shift, -0.02)
            if pose.blink:
                canvas.line(eye - (0.06 * u, 0), eye + (0.06 * u, 0), max(1.0, 0.02 * u), (60, 60, 70))
            else:
                canvas.ellipse(eye, (0.055 * u, 0.024 * u), pose.roll, (215, 220, 225))
                canvas.ellipse(eye + (shift * 0.2 * u, 0), (0.022 * u, 0.022 * u), 0, look.iris)
            canvas.line(at(side * 0.08 + shift, -0.12), at(side * 0.2 + shift, -0.13), brow,
                        _shade(look.hair, 0.9))
            if look.glasses:
                canvas.ring(eye, (0.1 * u, 0.075 * u), pose.roll, max(1.0, 0.02 * u), (40, 40, 40),
                            label=1)
                canvas.line(at(side * 0.25 + shift, -0.03), at(side * 0.05 + shift, -0.03),
                            max(1.0, 0.02 * u), (30, 30, 30), label=1)
        canvas.line(at(shift * 1.2, 0.0), at(shift * 1.4 + 0.02, 0.13), max(1.0, 0.035 * u),
                    _shade(look.skin, 0.78))
        canvas.ellipse(at(shift, 0.27), (0.1 * u, (0.015 + 0.05 * pose.mouth) * u), pose.roll,
                       look.lips if pose.mouth < 0.2 else (50, 40, 90))

    def hands(self, t):
        """(wrist position, head height) of each hand in frame ``t``; empty when out of view."""
        pose = self.motion(t)
        if pose is None:
            return []
        return [(arm_joints(pose.neck, pose.unit, side, arm)[2], pose.unit)
                for side, arm in zip((-1, 1), pose.arms)]

    def _draw_arm(self, canvas, side, joints, spread, u):
        shoulder, elbow, wrist = joints
        look = self.look
        fore_direction = (wrist - elbow) / (1.05 * u)
        sleeve = _shade(look.shirt, 0.9)
        canvas.line(shoulder, elbow, 0.36 * u, _shade(look.shirt, 0.55), label=1)
        canvas.line(shoulder, elbow, 0.3 * u, sleeve, label=1)
        forearm = sleeve if look.long_sleeves else _shade(look.skin, 0.95)
        canvas.line(elbow, wrist, 0.3 * u, _shade(forearm, 0.65), label=1)
        canvas.line(elbow, wrist, 0.25 * u, forearm, label=1)
        self._draw_hand(canvas, side, wrist, fore_direction, spread, u)

    def _draw_hand(self, canvas, side, wrist, direction, spread, u):
        skin = self.look.skin
        edge = _shade(skin, 0.7)
        finger = max(1.0, self.finger_width * u)
        palm = wrist + 0.15 * u * direction
        across = np.array([-direction[1], direction[0]])
        angle = np.degrees(np.arctan2(direction[1], direction[0]))
        canvas.ellipse(palm, (0.17 * u, 0.13 * u), angle, edge, label=1)
        canvas.ellipse(palm, (0.155 * u, 0.115 * u), angle, skin, label=1)
        for offset, length in ((-1.5, 0.2), (-0.5, 0.25), (0.5, 0.26), (1.5, 0.22)):
            base = palm + 0.1 * u * direction + offset * 0.06 * u * across
            tip = base + length * u * _rotate(direction, offset * spread * 0.4)
            canvas.line(base, tip, finger + 1, edge, label=1)
            canvas.line(base, tip, finger, skin, label=1)
        thumb_direction = _rotate(direction, -side * (0.9 + spread))
        thumb_base = palm - side * 0.08 * u * across
        canvas.line(thumb_base, thumb_base + 0.2 * u * thumb_direction, finger + 1, edge, label=1)
        canvas.line(thumb_base, thumb_base + 0.2 * u * thumb_direction, finger, skin, label=1)
