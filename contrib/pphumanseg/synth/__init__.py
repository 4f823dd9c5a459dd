"""Generated teleconference video with exact person masks.

``render_clip`` renders one video in memory; ``write_dataset`` writes a PP-HumanSeg14K-style
dataset (the ``pphumanseg synth`` command); ``write_clip`` writes an mp4 plus its masks.
"""
from .preview import contact_sheet, dataset_preview, mask_overlay
from .presets import PRESETS, Preset, get_preset
from .scene import Scene, make_scene, render_clip
from .writer import SPLITS, split_videos, write_clip, write_dataset

__all__ = ["PRESETS", "contact_sheet", "dataset_preview", "mask_overlay", "Preset", "SPLITS", "Scene", "get_preset", "make_scene", "render_clip", "split_videos",
           "write_clip", "write_dataset"]
