"""Registered models: ConnectNet (MODELS) and its encoder ConnectNetEncoder (BACKBONES)."""
from .connectnet import ConnectNet, ConnectNetEncoder, convert_paddleseg_state_dict, load_checkpoint

__all__ = ["ConnectNet", "ConnectNetEncoder", "convert_paddleseg_state_dict", "load_checkpoint"]
