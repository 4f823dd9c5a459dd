"""How people move: a seated participant and a passer-by, each a frame -> ``Pose`` function."""
import numpy as np

from .motion import Drift, Keyframes
from .person import ARM_POSES, Pose

_ARM_TABLE = np.array(list(ARM_POSES.values()))


class SeatedParticipant:
    """A participant in front of the camera: sways, leans, turns, talks, blinks and gestures.

    Args:
        rng: the video's ``numpy.random.Generator``.
        neck: (x, y) pixel position of the base of the neck at rest.
        unit: head height in pixels at rest.
        frames: number of frames to plan motion for.
        arm_weights: relative weights of ``ARM_POSES`` for the arm keyframes.
    """

    def __init__(self, rng, neck, unit, frames, arm_weights):
        self.neck = np.asarray(neck, np.float64)
        self.unit = unit
        self.sway_x = Drift(rng, 0.25 * unit, (40, 160))
        self.sway_y = Drift(rng, 0.08 * unit, (50, 150))
        self.lean = Drift(rng, rng.uniform(0.02, 0.15), (80, 250))
        self.roll = Drift(rng, rng.uniform(2, 9), (40, 140))
        self.turn = Drift(rng, rng.uniform(0.1, 0.6), (60, 200))
        self.talk_period = rng.uniform(4, 9)
        self.talk_phase = rng.uniform(0, 2 * np.pi)
        self.talking = Drift(rng, 1.0, (30, 90))
        self.blinks = set(int(t) for t in np.cumsum(rng.integers(40, 110, size=frames // 40 + 2)))
        self.arms = [Keyframes(rng, _ARM_TABLE, arm_weights, frames) for _ in range(2)]
        self.wave_periods = rng.uniform(8, 14, 2)
        self.wave_phases = rng.uniform(0, 2 * np.pi, 2)

    def __call__(self, t):
        scale = 1.0 + self.lean(t)
        neck = self.neck + (self.sway_x(t), self.sway_y(t) + 0.4 * self.unit * (scale - 1.0))
        arms = []
        for arm, period, phase in zip(self.arms, self.wave_periods, self.wave_phases):
            upper, fore, wave, spread = arm(t)
            fore += wave * np.sin(2 * np.pi * t / period + phase)
            arms.append((upper, fore, spread))
        mouth = max(0.0, self.talking(t)) * abs(np.sin(2 * np.pi * t / self.talk_period + self.talk_phase))
        return Pose(neck=neck, unit=self.unit * scale, roll=self.roll(t), turn=self.turn(t),
                    mouth=min(mouth, 1.0), blink=t in self.blinks, arms=tuple(arms))


class Passerby:
    """Someone walking through the room behind the participants, seen in profile.

    Args:
        rng: the video's ``numpy.random.Generator``.
        frame_size: (width, height) of the frame.
        unit: head height in pixels (smaller than the participants': they are further away).
        frames: number of frames of the video; the walk is centred on a random frame of it.
    """

    def __init__(self, rng, frame_size, unit, frames):
        width, height = frame_size
        self.unit = unit
        direction = 1 if rng.random() < 0.5 else -1
        speed = width * rng.uniform(1 / 70, 1 / 30)
        self.start_x = width / 2 - direction * speed * rng.uniform(0, frames)
        self.velocity = direction * speed
        self.y = height * rng.uniform(0.15, 0.32)
        self.turn = 0.9 * direction
        self.margin = 2.5 * unit
        self.width = width
        self.step_period = rng.uniform(14, 22)

    def __call__(self, t):
        x = self.start_x + self.velocity * t
        if x < -self.margin or x > self.width + self.margin:
            return None
        stride = 2 * np.pi * t / self.step_period
        step = np.sin(stride)
        neck = np.array([x, self.y + 0.04 * self.unit * abs(step)])
        arms = ((0.1 + 0.25 * step, 0.1 + 0.35 * step, 0.1), (0.1 - 0.25 * step, 0.1 - 0.35 * step, 0.1))
        return Pose(neck=neck, unit=self.unit, roll=0.0, turn=self.turn, mouth=0.0, blink=False, arms=arms,
                    stride=stride)
