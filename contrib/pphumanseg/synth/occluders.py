"""Objects between the camera and the participants: they cut the person mask into pieces.

Each occluder is drawn with label 0 over the people, so a microphone pole crossing a waving arm,
a laptop or desk edge hiding a wrist or a cup handle in front of a hand split one person into
several connected components, the case the SC loss is about.
"""
import numpy as np

from .textures import wood


class Cup:
    """A mug on the desk: a body plus a handle ring the person shows through.

    Args:
        rng: the video's ``numpy.random.Generator``.
        frame_size: (width, height) in pixels.
        near_x: horizontal position (pixels) of the participant it stands in front of.
    """

    def __init__(self, rng, frame_size, near_x):
        width, height = frame_size
        self.size = rng.uniform(0.14, 0.22) * height
        self.x = near_x + rng.uniform(-0.35, 0.35) * width * 0.5
        self.bottom = height * rng.uniform(0.98, 1.08)
        self.color = tuple(rng.uniform(30, 240, 3))
        self.handle_side = 1 if rng.random() < 0.5 else -1

    def draw(self, canvas):
        s, x, bottom = self.size, self.x, self.bottom
        top = bottom - s
        canvas.ring((x + self.handle_side * 0.42 * s, top + 0.45 * s), (0.2 * s, 0.22 * s), 0,
                    max(2.0, 0.08 * s), self.color, label=0)
        canvas.polygon([(x - 0.35 * s, top), (x + 0.35 * s, top), (x + 0.32 * s, bottom),
                        (x - 0.32 * s, bottom)], self.color, label=0)
        canvas.ellipse((x, top), (0.35 * s, 0.07 * s), 0, tuple(0.6 * c for c in self.color), label=0)


class Microphone:
    """A desk microphone: a thin pole from the bottom edge up to a capsule near the mouth.

    Args:
        rng: the video's ``numpy.random.Generator``.
        frame_size: (width, height) in pixels.
        near_x: horizontal position (pixels) of the participant it stands in front of.
        unit: the participant's head height in pixels.
    """

    def __init__(self, rng, frame_size, near_x, unit):
        width, height = frame_size
        self.x = near_x + rng.uniform(0.4, 1.3) * unit * (1 if rng.random() < 0.5 else -1)
        self.top = height * rng.uniform(0.4, 0.6)
        self.height = height
        self.pole = max(2.0, rng.uniform(0.025, 0.045) * unit)
        self.capsule = rng.uniform(0.12, 0.18) * unit
        self.lean = rng.uniform(-0.15, 0.15) * unit

    def draw(self, canvas):
        head = (self.x + self.lean, self.top)
        canvas.line((self.x, self.height + 5), head, self.pole, (30, 30, 32), label=0)
        canvas.ellipse(head, (self.capsule, 1.7 * self.capsule), 10, (55, 55, 60), label=0)
        for k in (-0.8, 0.0, 0.8):
            y = head[1] + k * self.capsule
            canvas.line((head[0] - 0.8 * self.capsule, y), (head[0] + 0.8 * self.capsule, y), 1,
                        (110, 110, 115))


class LaptopEdge:
    """The back of a laptop screen rising from the bottom edge, slightly tilted.

    Args:
        rng: the video's ``numpy.random.Generator``.
        frame_size: (width, height) in pixels.
    """

    def __init__(self, rng, frame_size):
        width, height = frame_size
        self.width = width
        self.height = height
        left = rng.uniform(-0.3, 0.4) * width
        self.x = (left, left + rng.uniform(0.5, 0.9) * width)
        self.top = height * rng.uniform(0.8, 0.9) + np.array([0.0, rng.uniform(-0.04, 0.04) * height])
        self.color = tuple(rng.uniform(140, 200) * np.array([1.0, 1.0, 1.02]))

    def draw(self, canvas):
        (x0, x1), (y0, y1) = self.x, self.top
        canvas.polygon([(x0, y0), (x1, y1), (x1, self.height + 2), (x0, self.height + 2)],
                       self.color, label=0)
        canvas.line((x0, y0), (x1, y1), max(1.0, 0.008 * self.height), (90, 90, 95), label=0)
        logo = ((x0 + x1) / 2, (y0 + y1) / 2 + 0.07 * self.height)
        canvas.ellipse(logo, (0.02 * self.height, 0.02 * self.height), 0, (230, 230, 235), label=0)


class DeskEdge:
    """The front edge of a wooden desk across the bottom of the frame.

    Args:
        rng: the video's ``numpy.random.Generator``.
        frame_size: (width, height) in pixels.
    """

    def __init__(self, rng, frame_size):
        width, height = frame_size
        self.width, self.height = width, height
        self.top = height * rng.uniform(0.86, 0.96)
        color = rng.uniform(60, 200) * np.array([0.6, 0.8, 1.0]) + rng.uniform(-15, 15, 3)
        self.texture = wood(rng, height, width, color)
        self.lip = tuple(np.clip(color * 0.6, 0, 255))

    def draw(self, canvas):
        top, bottom = self.top, self.height + 2
        canvas.textured_polygon([(-2, top), (self.width + 2, top), (self.width + 2, bottom), (-2, bottom)],
                                self.texture, label=0)
        canvas.line((-2, top), (self.width + 2, top), max(1.0, 0.012 * self.height), self.lip, label=0)
