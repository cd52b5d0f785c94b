"""Recognise a file again (size, modification time, and a hash of its first and last megabyte),
and the settings earlier work was made with."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..errors import VidcolorError
from ..media.timeline import parse_time
from ..options import MODEL_OPTIONS, STILLS_OPTIONS, RunOptions
from ..run.colorizer import net_settings
from .manifest import dump_settings

SAMPLE = 1 << 20


def fingerprint(path: Path) -> str:
    """``size:mtime_ns:sha256`` of the first and last megabyte (cheap for a film of any length)."""
    st = path.stat()
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read(SAMPLE))
        if st.st_size > SAMPLE:
            f.seek(max(SAMPLE, st.st_size - SAMPLE))
            h.update(f.read(SAMPLE))
    return f"{st.st_size}:{st.st_mtime_ns}:{h.hexdigest()}"



def work_settings(options: RunOptions, kind: str = "video", references: list[str] | None = None,
                  net=None) -> dict:
    """What earlier work must have been made with to count again (a batch's finished item, a
    film's finished segments): the options that change the output (``RunOptions.settings``), a
    weights file as it is now (another file under the same name is another model), and the
    references' content. One rule for the single-file command and the batch. ``net``: the
    Colorizer that runs, where it is known (a caller's own may differ from the options')."""
    settings = options.settings()
    if kind != "video":  # a still: the model's options and skip_color are all that count
        settings = {k: v for k, v in settings.items() if k in (*MODEL_OPTIONS, *STILLS_OPTIONS)}
    else:  # as this version resolves the default: another default is other colors
        settings["smooth_strength"] = options.strength
    weights = options.model.weights
    if weights is not None:
        path = Path(weights)
        settings["weights"] = f"{path.resolve()}:{fingerprint(path) if path.is_file() else 'missing'}"
    if net is not None:
        settings.update(net_settings(net), model=net.model_name,
                        weights=f"{net.weights_path.name}:{fingerprint(net.weights_path)}")
    if references:
        settings["references"] = references
    return settings


# Values options hold when left alone; a record an older vidcolor wrote spelled some of them out.
_DEFAULTS = RunOptions().record()


def same_settings(stored: str | None, settings: dict) -> bool:
    """Whether the settings a manifest stored (``dump_settings``) are ``settings``: a value left
    at its default counts as absent and a time as seconds, so that what an older vidcolor
    recorded of the same run still matches (a finished batch is not redone for a new spelling)."""
    try:
        old = json.loads(stored or "")
    except ValueError:
        return False
    return isinstance(old, dict) and _normal(old) == _normal(json.loads(dump_settings(settings)))


def _normal(settings: dict) -> dict:
    out = {}
    for name, value in settings.items():
        if value is None or value is False or _DEFAULTS.get(name, ...) == value:
            continue
        if name in ("start", "duration"):
            try:
                value = parse_time(value, name)
            except VidcolorError:
                pass
        out[name] = value
    return out
