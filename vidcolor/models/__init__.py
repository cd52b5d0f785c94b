"""Finding, downloading, loading and running DDColor weights."""
from .colorizer import Colorizer, resolve_device, resolve_weights
from .registry import DEFAULT_MODEL, MODELS, KnownModel, known_model

__all__ = ["Colorizer", "DEFAULT_MODEL", "KnownModel", "MODELS", "known_model", "resolve_device", "resolve_weights"]
