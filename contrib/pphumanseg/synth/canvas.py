"""Drawing on an image and its mask from the same geometry.

Every primitive takes float coordinates (drawn with OpenCV's fixed-point ``shift`` so motion is
sub-pixel smooth) and an optional ``label``: when given, the same shape is rasterised into the
mask with that value, so the mask is exact by construction. The image gets anti-aliased edges;
the mask gets the hard rasterisation of the same outline.
"""
import cv2
import numpy as np

SHIFT = 4
_ONE = 1 << SHIFT


def _fixed(point):
    return int(round(point[0] * _ONE)), int(round(point[1] * _ONE))


def _color(color):
    return tuple(float(c) for c in color)


class Canvas:
    """An image (HxWx3 uint8, BGR) and its mask (HxW uint8) drawn together.

    Args:
        image: the frame to draw on, modified in place.
        mask: the label map to draw on, modified in place.
    """

    def __init__(self, image, mask):
        self.image = image
        self.mask = mask
        self.height, self.width = mask.shape
        self._stencil = np.zeros_like(mask)

    def ellipse(self, center, axes, angle, color, label=None, arc=(0, 360)):
        center = _fixed(center)
        axes = _fixed((max(axes[0], 0.5), max(axes[1], 0.5)))
        cv2.ellipse(self.image, center, axes, float(angle), arc[0], arc[1], _color(color), -1,
                    cv2.LINE_AA, SHIFT)
        if label is not None:
            cv2.ellipse(self.mask, center, axes, float(angle), arc[0], arc[1], label, -1,
                        cv2.LINE_8, SHIFT)

    def ring(self, center, axes, angle, thickness, color, label=None, arc=(0, 360)):
        """An unfilled ellipse or arc of it, e.g. a cup handle that the person shows through."""
        center = _fixed(center)
        axes = _fixed((max(axes[0], 0.5), max(axes[1], 0.5)))
        thickness = max(1, int(round(thickness)))
        cv2.ellipse(self.image, center, axes, float(angle), arc[0], arc[1], _color(color), thickness,
                    cv2.LINE_AA, SHIFT)
        if label is not None:
            cv2.ellipse(self.mask, center, axes, float(angle), arc[0], arc[1], label, thickness,
                        cv2.LINE_8, SHIFT)

    def polygon(self, points, color, label=None):
        points = [np.round(np.asarray(points, np.float64) * _ONE).astype(np.int32)]
        cv2.fillPoly(self.image, points, _color(color), cv2.LINE_AA, SHIFT)
        if label is not None:
            cv2.fillPoly(self.mask, points, label, cv2.LINE_8, SHIFT)

    def line(self, start, end, thickness, color, label=None):
        """A thick segment with round caps (limbs, fingers, poles); thickness is in pixels."""
        start, end = _fixed(start), _fixed(end)
        thickness = max(1, int(round(thickness)))
        cv2.line(self.image, start, end, _color(color), thickness, cv2.LINE_AA, SHIFT)
        if label is not None:
            cv2.line(self.mask, start, end, label, thickness, cv2.LINE_8, SHIFT)

    def textured_polygon(self, points, texture, label=None):
        """Fill a polygon with the pixels of ``texture`` (an HxWx3 view aligned with the frame)."""
        points = [np.round(np.asarray(points, np.float64) * _ONE).astype(np.int32)]
        self._stencil[:] = 0
        cv2.fillPoly(self._stencil, points, 255, cv2.LINE_8, SHIFT)
        cv2.copyTo(texture, self._stencil, self.image)
        if label is not None:
            cv2.fillPoly(self.mask, points, label, cv2.LINE_8, SHIFT)
