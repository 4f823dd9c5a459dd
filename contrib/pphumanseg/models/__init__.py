"""Registered models: ConnectNet (MODELS) and its encoder ConnectNetEncoder (BACKBONES); the
weights loader every command uses (``weights.load_weights``)."""
from .connectnet import ConnectNet, ConnectNetEncoder, convert_paddleseg_state_dict
from .weights import load_weights

__all__ = ["ConnectNet", "ConnectNetEncoder", "convert_paddleseg_state_dict", "load_weights"]
