"""A run's options as one frozen value: what the API's keywords, the CLI's flags, a batch's
manifest and a web request all say, checked once, here, and passed down whole.

``RunOptions`` is made of small parts, one per concern: the model's (``ModelOptions``), the
encoder's (``media.encode.EncodeSettings``), the part of the film (``FilmPart``), color and
smoothing (``ColorOptions``), references (``Guides``), resuming (``ResumeOptions``) and the other
streams (``audio``). ``from_mapping`` builds it from names (the API's keyword names, which the
CLI maps to its flags), ``validate`` checks every value, ``record`` gives it back as names and
plain values: ``RunOptions.from_mapping(o.record()) == o``.

Errors are ``errors.OptionError``s naming the API's parameter (``segment_seconds``), which
``cli.py`` spells as its flag (``--segment-seconds``).
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from .errors import OptionError, VidcolorError, option
from .media.encode import EncodeSettings
from .media.interlace import MODES as DEINTERLACE_MODES
from .media.presets import output_preset
from .media.timeline import parse_time
from .models.colorizer import check_model_choice, check_model_settings
from .models.registry import known_model
from .temporal.smoother import DEFAULT_STRENGTH

# A film is colorized in segments, each kept as it is done (vidcolor.resume). AUTO: each segment
# about a minute of work at the pace measured on the first; a number: seconds of film.
AUTO = "auto"


@dataclass(frozen=True)
class ModelOptions:
    """Which network, where and how it runs (None: the Colorizer's default)."""

    model: str | None = None
    weights: str | None = None
    device: str = "auto"
    input_size: int = 512
    batch_size: int | None = None
    precision: str = "fp32"
    parity: bool = False
    workers: int | None = None
    lab_on_device: bool | None = None
    channels_last: bool | None = None
    smooth_on_device: bool | None = None

    def colorizer_kwargs(self) -> dict:
        """The Colorizer's keywords for these options (those left at the default left out)."""
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}


@dataclass(frozen=True)
class FilmPart:
    """Which part of the film, read how: ``start`` and ``duration`` in seconds; ``fps`` the rate
    of an image sequence; ``deinterlace`` a ``media.interlace`` mode."""

    start: float | None = None
    duration: float | None = None
    fps: float | None = None
    deinterlace: str = "auto"


@dataclass(frozen=True)
class ColorOptions:
    """``smooth_strength``: 0 (off) to 1, None for the default (off in parity mode); ``skip_color``:
    shots already in color are left as they are."""

    smooth_strength: float | None = None
    skip_color: bool = False


@dataclass(frozen=True, eq=False)
class Guides:
    """Colors the film must follow: ``references`` (folders and ``FILE@TIME`` strings, or pairs of
    a frame number and an image or its file) and a ``hints`` file."""

    references: tuple = ()
    hints: str | None = None

    def _key(self):  # an image in memory compares by its pixels
        return tuple((r[0], _digest(r[1])) if isinstance(r, tuple) and isinstance(r[1], np.ndarray) else r
                     for r in self.references), self.hints

    def __eq__(self, other):
        return isinstance(other, Guides) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __bool__(self) -> bool:
        return bool(self.references or self.hints)

    def given(self):
        """The references as ``temporal.reference_files.film_references`` takes them."""
        if self.references and isinstance(self.references[0], tuple):
            return dict(self.references)
        return self.references or None


@dataclass(frozen=True)
class ResumeOptions:
    """``segment_seconds``: ``"auto"`` (segments of about a minute of work), seconds of film, or
    None (one piece, no resuming); ``fresh``: discard what an interrupted run left."""

    segment_seconds: float | str | None = AUTO
    fresh: bool = False


@dataclass(frozen=True)
class RunOptions:
    """Everything a run is asked to do, checked as it is made (``validate``)."""

    model: ModelOptions = field(default_factory=ModelOptions)
    encode: EncodeSettings = field(default_factory=EncodeSettings)
    part: FilmPart = field(default_factory=FilmPart)
    color: ColorOptions = field(default_factory=ColorOptions)
    guides: Guides = field(default_factory=Guides)
    resume: ResumeOptions = field(default_factory=ResumeOptions)
    audio: str = "auto"  # media.streams: auto, copy, or an audio encoder's name

    def __post_init__(self):
        self.validate()

    @classmethod
    def from_mapping(cls, mapping=None, /, **more) -> RunOptions:
        """Options from names and values (the API's keywords); unknown names, wrong types and bad
        values are one ``OptionError`` each, naming the option."""
        given = {**(mapping or {}), **more}
        unknown = sorted(set(given) - set(NAMES))
        if unknown:
            raise OptionError(unknown[0], f"unknown option(s): {', '.join(unknown)} (the options are "
                                          f"{', '.join(NAMES)})")
        parts: dict[str, dict] = {}
        for name, value in given.items():
            part, convert = NAMES[name]
            if value is not None or name in _NONE_MEANS:
                parts.setdefault(part, {})[name] = convert(name, value)
        made = {part: PARTS[part](**values) for part, values in parts.items() if part != "audio"}
        return cls(**made, **parts.get("audio", {}))

    def replace(self, **changes) -> RunOptions:
        """These options with some changed (by name), checked again."""
        return RunOptions.from_mapping({**self.record(), **changes})

    def validate(self) -> None:
        """Every check of every value, before any file is opened."""
        m = self.model
        check_model_choice(m.model, m.weights)
        if m.model is not None:
            try:
                known_model(m.model)
            except VidcolorError as e:
                raise OptionError("model", str(e)) from None
        for name, problem in check_model_settings(m.input_size, m.precision, m.batch_size, m.workers):
            raise OptionError.of(name, problem)
        try:
            output_preset(self.encode.preset)
        except VidcolorError as e:
            raise OptionError("preset", str(e)) from None
        part = self.part
        if part.duration == 0:
            raise OptionError.of("duration", "must be more than 0")
        if part.fps is not None and not part.fps > 0:
            raise OptionError.of("fps", f"{part.fps} must be more than 0")
        if part.deinterlace not in DEINTERLACE_MODES:
            raise OptionError.of("deinterlace", f"must be one of {', '.join(DEINTERLACE_MODES)}, not '{part.deinterlace}'")
        strength = self.color.smooth_strength
        if strength is not None:
            if not 0.0 <= strength <= 1.0:
                raise OptionError.of("smooth_strength", f"{strength} must be between 0 (off) and 1")
            if strength and m.parity:
                raise OptionError("smooth_strength", f"{option('parity')} gives the official per-frame colors, "
                                                     "which smoothing would change; use one or the other")
        seconds = self.resume.segment_seconds
        if seconds is not None and seconds != AUTO and not 0 < seconds < math.inf:
            raise OptionError.of("segment_seconds", f"{seconds}: give auto or a number of seconds of film over 0")

    @property
    def strength(self) -> float:
        """The smoothing's strength this run uses."""
        s = self.color.smooth_strength
        return (0.0 if self.model.parity else DEFAULT_STRENGTH) if s is None else s

    def record(self) -> dict:
        """Every option by name, as plain values (JSON, where no reference is an image in memory)."""
        out = {}
        for name, (part, _) in NAMES.items():
            holder = self if part == "audio" else getattr(self, part)
            value = getattr(holder, name)
            if name == "references":
                value = [list(r) if isinstance(r, tuple) else r for r in value] if value else None
            out[name] = value
        return out

    def settings(self) -> dict:
        """The options that change the output's pixels or streams, those left at their default
        left out: what a batch's provenance records, and what decides whether earlier work still
        counts (``resume.fingerprint.work_settings``)."""
        defaults = RunOptions().record()
        ignored = {"device", "batch_size", "workers", "lab_on_device", "channels_last", "smooth_on_device",
                   "segment_seconds", "fresh", "references", "hints"}
        return {k: v for k, v in self.record().items() if k not in ignored and v != defaults[k]}


def _digest(image: np.ndarray) -> str:
    return hashlib.sha256(image.tobytes() + str(image.shape).encode()).hexdigest()[:16]


def _text(name, value):
    if not isinstance(value, (str, Path)):
        raise OptionError.of(name, f"takes a name or path, not {value!r}")
    return str(value)


def _flag(name, value):
    if not isinstance(value, bool) and value not in (0, 1):
        raise OptionError.of(name, f"takes true or false, not {value!r}")
    return bool(value)


def _maybe_flag(name, value):
    return None if value is None else _flag(name, value)


def _integer(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) and not (
            isinstance(value, float) and value.is_integer()):
        raise OptionError.of(name, f"takes a whole number, not {value!r}")
    return int(value)


def _number(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or \
            not math.isfinite(value):
        raise OptionError.of(name, f"takes a finite number, not {value!r}")
    return float(value)


def _time(name, value):
    try:
        return parse_time(value if isinstance(value, (str, int, float)) and not isinstance(value, bool)
                          else repr(value), name)
    except VidcolorError as e:
        raise OptionError.of(name, str(e).removeprefix(f"{name} ")) from None


def _segment_seconds(name, value):
    return AUTO if value == AUTO else None if value is None else _number(name, value)


def _references(name, value):
    if isinstance(value, dict):
        pairs = []
        for k, v in value.items():
            frame = _integer(name, k) if not isinstance(k, str) or not k.isdigit() else int(k)
            pairs.append((frame, v if isinstance(v, np.ndarray) else _text(name, v)))
        return tuple(sorted(pairs, key=lambda p: p[0]))
    if isinstance(value, (str, Path)):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise OptionError.of(name, f"takes folders of keyframes or FILE@TIME strings, not {value!r}")
    if value and all(isinstance(r, (list, tuple)) and len(r) == 2 for r in value):  # as record() wrote pairs
        return _references(name, {r[0]: r[1] for r in value})
    return tuple(_text(name, r) for r in value)


def _guides_part(name, value):
    return _references(name, value) if name == "references" else _text(name, value)


# Each option: the part it belongs to and how its value is read. None means the default, but for
# segment_seconds, where it means one piece.
NAMES = {
    **{n: ("model", _text) for n in ("model", "weights", "device", "precision")},
    **{n: ("model", _integer) for n in ("input_size", "batch_size", "workers")},
    "parity": ("model", _flag),
    **{n: ("model", _maybe_flag) for n in ("lab_on_device", "channels_last", "smooth_on_device")},
    **{n: ("encode", _text) for n in ("codec", "pix_fmt", "preset", "encoder_preset")},
    "crf": ("encode", _integer),
    **{n: ("part", _time) for n in ("start", "duration")},
    "fps": ("part", _number),
    "deinterlace": ("part", _text),
    "smooth_strength": ("color", _number),
    "skip_color": ("color", _flag),
    "references": ("guides", _guides_part),
    "hints": ("guides", _guides_part),
    "segment_seconds": ("resume", _segment_seconds),
    "fresh": ("resume", _flag),
    "audio": ("audio", _text),
}
_NONE_MEANS = {"segment_seconds"}
PARTS = {"model": ModelOptions, "encode": EncodeSettings, "part": FilmPart, "color": ColorOptions,
         "guides": Guides, "resume": ResumeOptions}
MODEL_OPTIONS = tuple(n for n, (part, _) in NAMES.items() if part == "model")
# What a still takes, beside the model's options.
STILLS_OPTIONS = ("skip_color",)
