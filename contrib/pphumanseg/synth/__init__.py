"""Generated teleconference video with exact person masks (see ``render_clip``)."""
from .presets import PRESETS, Preset, get_preset
from .scene import Scene, render_clip

__all__ = ["PRESETS", "Preset", "Scene", "get_preset", "render_clip"]
