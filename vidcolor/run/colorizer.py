"""The network a run uses: the caller's, or one loaded from the run's model options."""
from __future__ import annotations

from pathlib import Path

from ..models import DEFAULT_MODEL, Colorizer
from ..options import ModelOptions
from ..progress import QUIET, Progress


def load_colorizer(options: ModelOptions, colorizer: Colorizer | None = None, progress: Progress = QUIET) -> Colorizer:
    """The caller's ``colorizer``, or one built from ``options`` (a step of its own in
    ``progress``: loading a large model takes seconds)."""
    if colorizer is not None:
        return colorizer
    name = Path(options.weights).name if options.weights else options.model or DEFAULT_MODEL
    with progress.task("load", f"loading model {name}", unit=""):
        return Colorizer(progress=progress, **options.colorizer_kwargs())


def net_settings(net: Colorizer) -> dict:
    """The model's settings that change pixels, for the provenance of what it makes."""
    return {"input_size": net.input_size, "parity": net.parity, "precision": net.precision}
