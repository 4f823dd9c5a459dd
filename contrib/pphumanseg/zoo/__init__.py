"""PaddleSeg's released PP-HumanSeg models (``catalog``) and their local cache (``cache``)."""
from .cache import cache_home, cached_path, fetch, fetch_url, install
from .catalog import KINDS, RELEASED_MODELS, ReleasedModel, released_model

__all__ = ["KINDS", "RELEASED_MODELS", "ReleasedModel", "cache_home", "cached_path", "fetch",
           "fetch_url", "install", "released_model"]
