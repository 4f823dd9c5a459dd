"""Contact sheets of generated frames beside their masks, to look at what the generator makes."""
import cv2
import numpy as np

from .scene import make_scene

OVERLAY_COLOR = np.array([40, 200, 40], np.float32)


def mask_overlay(frame, mask):
    """The frame with person pixels tinted green and the mask outline drawn."""
    overlay = frame.astype(np.float32)
    person = mask == 1
    overlay[person] = 0.45 * overlay[person] + 0.55 * OVERLAY_COLOR
    overlay = overlay.astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(overlay, contours, -1, (255, 255, 255), 1)
    return overlay


def contact_sheet(samples, columns=2):
    """Tile (frame, mask) pairs as [frame | overlay], ``columns`` pairs per row."""
    tiles = [np.hstack([frame, mask_overlay(frame, mask)]) for frame, mask in samples]
    blank = np.zeros_like(tiles[0])
    tiles += [blank] * (-len(tiles) % columns)
    rows = [np.hstack(tiles[i:i + columns]) for i in range(0, len(tiles), columns)]
    return np.vstack(rows)


def dataset_preview(videos, frames, size, seed, preset, count=6, columns=2):
    """Contact sheet of the middle frame of the first ``count`` videos ``write_dataset`` would write."""
    samples = [make_scene(size, frames, (seed, index), preset).render(frames // 2)
               for index in range(min(count, videos))]
    return contact_sheet(samples, columns)
