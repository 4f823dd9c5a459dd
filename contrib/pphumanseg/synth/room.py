"""The room behind the participants, rendered once per video.

Walls, a window, shelves with books, a plant, a wall screen, a poster, a door, a coat and a chair
are placed from the video's random generator. Some are hard negatives on purpose: a skin-coloured
door or vase, a poster with a face, a coat with clothing texture. The room is drawn with label
None (background) and softened by a depth-of-field blur.
"""
import cv2
import numpy as np

from .canvas import Canvas
from .textures import FABRIC_PATTERNS, fabric, plaster, screen_content, wood

WALL_COLORS = np.array([(215, 220, 225), (180, 200, 215), (200, 190, 170), (150, 160, 120),
                        (120, 150, 190), (90, 95, 100), (170, 200, 230), (220, 215, 200)], np.float64)


class Room:
    """A static room image of ``frame_size`` built from ``rng``.

    Args:
        rng: the video's ``numpy.random.Generator``.
        frame_size: (width, height) in pixels.
        hard_negatives: probability of each skin- or clothing-coloured object.
        skin: a skin colour (BGR) that hard negatives imitate.
    """

    def __init__(self, rng, frame_size, hard_negatives, skin):
        width, height = frame_size
        self.rng = rng
        self.width, self.height = width, height
        wall = WALL_COLORS[rng.integers(len(WALL_COLORS))] + rng.uniform(-15, 15, 3)
        image = plaster(rng, height, width, wall)
        canvas = Canvas(image, np.zeros((height, width), np.uint8))
        self.canvas = canvas
        if rng.random() < 0.5:
            self._second_wall(wall)
        items = [self._window, self._shelf, self._screen, self._poster, self._plant, self._lamp]
        for index in rng.permutation(len(items))[: rng.integers(2, 5)]:
            items[index]()
        if rng.random() < hard_negatives:
            self._door(skin)
        if rng.random() < hard_negatives:
            self._coat()
        if rng.random() < hard_negatives:
            self._vase(skin)
        if rng.random() < 0.6:
            self._chair()
        sigma = rng.uniform(0.4, 1.6) * height / 224
        self.image = cv2.GaussianBlur(image, (0, 0), sigma)

    def _box(self, x_range, y_range, w_range, h_range):
        """A random rectangle in frame fractions -> pixel corners (x0, y0, x1, y1)."""
        rng, w, h = self.rng, self.width, self.height
        x0, y0 = rng.uniform(*x_range) * w, rng.uniform(*y_range) * h
        return x0, y0, x0 + rng.uniform(*w_range) * w, y0 + rng.uniform(*h_range) * h

    def _rect(self, box, color):
        x0, y0, x1, y1 = box
        self.canvas.polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], color)

    def _paste(self, box, texture):
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, self.width), min(y1, self.height)
        if x1 > x0 and y1 > y0:
            self.canvas.image[y0:y1, x0:x1] = cv2.resize(texture, (x1 - x0, y1 - y0))

    def _second_wall(self, wall):
        x = self.rng.uniform(0.1, 0.9) * self.width
        left = self.rng.random() < 0.5
        shade = wall * self.rng.uniform(0.7, 0.9)
        box = (0, 0, x, self.height) if left else (x, 0, self.width, self.height)
        self._paste(box, plaster(self.rng, self.height, self.width, shade))

    def _window(self):
        rng = self.rng
        x0, y0, x1, y1 = self._box((-0.1, 0.7), (-0.1, 0.2), (0.2, 0.4), (0.35, 0.6))
        sky = np.linspace(rng.uniform(230, 255), rng.uniform(170, 230), 32)
        glass = np.stack([sky, sky * 0.95, sky * rng.uniform(0.8, 0.95)], -1)[:, None, :]
        self._paste((x0, y0, x1, y1), np.repeat(glass, 8, axis=1).astype(np.uint8))
        frame = tuple(rng.uniform(200, 250, 3))
        bar = max(2.0, 0.015 * self.height)
        for x in (x0, (x0 + x1) / 2, x1):
            self.canvas.line((x, y0), (x, y1), bar, frame)
        for y in (y0, y1):
            self.canvas.line((x0, y), (x1, y), bar, frame)
        if rng.random() < 0.5:
            slat = tuple(rng.uniform(170, 240, 3))
            for y in np.arange(y0, y0 + (y1 - y0) * rng.uniform(0.2, 0.9), 0.03 * self.height):
                self.canvas.line((x0, y), (x1, y), max(1.0, 0.012 * self.height), slat)

    def _shelf(self):
        rng = self.rng
        x0, y0, x1, y1 = self._box((-0.1, 0.75), (0.05, 0.35), (0.25, 0.45), (0.3, 0.55))
        board_color = rng.uniform(60, 180, 3)
        board = max(2.0, 0.025 * self.height)
        levels = np.linspace(y0, y1, rng.integers(2, 4))
        for top, bottom in zip(levels[:-1], levels[1:]):
            x = x0
            while x < x1:
                book_w = rng.uniform(0.012, 0.03) * self.width
                book_h = (bottom - top) * rng.uniform(0.6, 0.95)
                if rng.random() < 0.85:
                    self._rect((x, bottom - book_h, x + book_w, bottom), tuple(rng.uniform(30, 230, 3)))
                x += book_w + rng.uniform(0, 0.01) * self.width
        for y in levels:
            self._paste((x0, y, x1, y + board), wood(rng, 8, 64, board_color))

    def _screen(self):
        rng = self.rng
        x0, y0, x1, y1 = self._box((0.0, 0.75), (0.05, 0.4), (0.18, 0.3), (0.15, 0.25))
        border = 0.012 * self.width
        self._rect((x0 - border, y0 - border, x1 + border, y1 + border), (25, 25, 28))
        self._paste((x0, y0, x1, y1), screen_content(rng, 48, 80))

    def _poster(self):
        rng = self.rng
        box = self._box((0.0, 0.8), (0.05, 0.35), (0.1, 0.18), (0.15, 0.3))
        x0, y0, x1, y1 = box
        self._rect((x0 - 3, y0 - 3, x1 + 3, y1 + 3), tuple(rng.uniform(10, 80, 3)))
        self._rect(box, tuple(rng.uniform(40, 240, 3)))
        # A portrait on the wall is a face that must stay background.
        face = tuple(rng.uniform(100, 220, 3))
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        self.canvas.ellipse((cx, cy + 0.25 * (y1 - y0)), (0.4 * (x1 - x0), 0.3 * (y1 - y0)), 0,
                            tuple(rng.uniform(30, 200, 3)))
        self.canvas.ellipse((cx, cy - 0.1 * (y1 - y0)), (0.2 * (x1 - x0), 0.2 * (y1 - y0)), 0, face)

    def _plant(self):
        rng = self.rng
        x = rng.uniform(0.0, 1.0) * self.width
        base = rng.uniform(0.55, 0.9) * self.height
        size = rng.uniform(0.12, 0.25) * self.height
        self.canvas.polygon([(x - 0.3 * size, base), (x + 0.3 * size, base),
                             (x + 0.22 * size, base + 0.5 * size), (x - 0.22 * size, base + 0.5 * size)],
                            tuple(rng.uniform(40, 180, 3)))
        for _ in range(rng.integers(8, 16)):
            angle = rng.uniform(-160, -20)
            length = size * rng.uniform(0.4, 1.0)
            center = (x + 0.5 * length * np.cos(np.deg2rad(angle)), base + 0.5 * length * np.sin(np.deg2rad(angle)))
            green = (rng.uniform(20, 70), rng.uniform(90, 170), rng.uniform(20, 80))
            self.canvas.ellipse(center, (0.5 * length, 0.12 * length), angle, green)

    def _lamp(self):
        rng = self.rng
        x = rng.uniform(0.05, 0.95) * self.width
        top = rng.uniform(0.1, 0.3) * self.height
        self.canvas.line((x, top), (x, self.height), max(1.0, 0.012 * self.height), (40, 40, 45))
        shade = tuple(rng.uniform(150, 250, 3))
        half = 0.06 * self.height
        self.canvas.polygon([(x - 0.6 * half, top - half), (x + 0.6 * half, top - half),
                             (x + half, top + 0.4 * half), (x - half, top + 0.4 * half)], shade)

    def _door(self, skin):
        x0, y0, x1, y1 = self._box((0.0, 0.8), (-0.05, 0.05), (0.18, 0.28), (1.1, 1.2))
        color = np.asarray(skin) * self.rng.uniform(0.9, 1.1)
        self._paste((x0, y0, x1, y1), wood(self.rng, 64, 32, color))
        self.canvas.ellipse((x0 + 0.85 * (x1 - x0), 0.55 * self.height), (3, 3), 0, (80, 110, 140))

    def _coat(self):
        rng = self.rng
        x, y = rng.uniform(0.05, 0.95) * self.width, rng.uniform(0.15, 0.35) * self.height
        s = rng.uniform(0.25, 0.4) * self.height
        pattern = FABRIC_PATTERNS[rng.integers(len(FABRIC_PATTERNS))]
        texture = fabric(rng, self.height, self.width, tuple(rng.uniform(20, 230, 3)), pattern)
        self.canvas.textured_polygon([(x - 0.1 * s, y), (x + 0.1 * s, y), (x + 0.45 * s, y + 0.25 * s),
                                      (x + 0.4 * s, y + 1.3 * s), (x - 0.4 * s, y + 1.3 * s),
                                      (x - 0.45 * s, y + 0.25 * s)], texture)

    def _vase(self, skin):
        x, y = self.rng.uniform(0.05, 0.95) * self.width, self.rng.uniform(0.5, 0.85) * self.height
        s = self.rng.uniform(0.08, 0.15) * self.height
        self.canvas.ellipse((x, y), (0.5 * s, 0.7 * s), 0, skin)
        self.canvas.polygon([(x - 0.2 * s, y - 1.1 * s), (x + 0.2 * s, y - 1.1 * s),
                             (x + 0.25 * s, y - 0.5 * s), (x - 0.25 * s, y - 0.5 * s)], skin)

    def _chair(self):
        rng = self.rng
        x = rng.uniform(0.3, 0.7) * self.width
        w, top = rng.uniform(0.3, 0.45) * self.height, rng.uniform(0.35, 0.5) * self.height
        color = tuple(rng.uniform(15, 90, 3))
        self.canvas.ellipse((x, top + 0.3 * w), (w, 0.4 * w), 0, color, arc=(180, 360))
        self._rect((x - w, top + 0.3 * w, x + w, self.height), color)
