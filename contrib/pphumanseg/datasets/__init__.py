"""Registered datasets."""
from .video_portrait import VideoPortraitDataset  # noqa: F401
