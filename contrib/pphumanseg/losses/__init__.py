"""Registered losses."""
from .connectivity_loss import SCLoss  # noqa: F401
