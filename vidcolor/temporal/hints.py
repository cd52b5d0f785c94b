"""Color hints: points and strokes on a frame, turned into a dense, partial reference for it.

In the spirit of Levin, Lischinski and Weiss (2004), "Colorization using Optimization":
neighbouring pixels of similar lightness should have similar colors. What is spread here is the
correction each hint asks of the model's color (the hint's chroma less the model's), so that
where no hint reaches, the model's colors stand. On the chroma's grid, the correction x
minimises

    sum over neighbours r, s of  w_rs (x_r - x_s)^2  +  MU sum_r x_r^2  +  sum_r h_r (x_r - c_r)^2

with w_rs = exp(-(L_r - L_s)^2 / 2 SIGMA^2) (edges of the film's lightness stop it), h_r the
hints' coverage and c_r their corrections; MU pulls it back to zero (the model's colors) away
from the hints. The same solve with every correction 1 says how far the hints reach: the
reference's weight. Solved by conjugate gradients, matrix-free, on the grid (at most
``SOLVE_SIZE`` a side). A frame's hints then act as a partial keyframe (``references``).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from .. import lab
from ..errors import VidcolorError
from ..media.timeline import clock, parse_time
from .frame_reference import Reference

SIGMA = 2.5  # lightness (0-100) difference across which a hint stops spreading
MU = 1.0 / 30.0 ** 2  # about 30 grid pixels of flat picture before a hint's pull halves, and more
SOLVE_SIZE = 256
ITERATIONS = 400
_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


@dataclass(frozen=True)
class Hint:
    """A color at points of one frame, in the frame's pixels: a point, or a stroke through them."""

    points: tuple[tuple[float, float], ...]
    ab: tuple[float, float]  # the hint color's chroma
    radius: float


def read_hints(path, rate: Fraction, frames: int | None, frame_shape: tuple[int, int],
               still: bool = False) -> dict[int, list[Hint]]:
    """``{frame number: hints}`` from a JSON file, every entry checked (the frame's size is
    ``frame_shape``, H, W; ``rate`` frames a second, ``frames`` in the film where known; a
    ``still``'s hints need no frame)."""
    path = Path(path)
    try:
        entries = json.loads(path.read_text())
    except OSError as e:
        raise VidcolorError(f"{path}: cannot read ({e.strerror})") from None
    except ValueError as e:
        raise VidcolorError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(entries, list) or not entries:
        raise VidcolorError(f"{path}: expected a list of hints, "
                            '[{"frame": 240, "x": 512, "y": 300, "color": "#2f5a2a", "radius": 6}, ...]')
    found: dict[int, list[Hint]] = {}
    for i, entry in enumerate(entries):
        where = f"{path}: hint {i + 1}"
        if not isinstance(entry, dict):
            raise VidcolorError(f"{where}: expected an object with frame (or time), x and y (or points), color")
        number = 0 if still and "frame" not in entry and "time" not in entry else _frame(entry, where, rate)
        if frames is not None and number >= frames:
            at = f" ({clock(number / rate)})" if number < 10**9 else ""  # no clock reaches 1e308 seconds
            raise VidcolorError(f"{where}: frame {number}{at} is past the end of the film, which has {frames} frames")
        found.setdefault(number, []).append(_hint(entry, where, frame_shape))
    return found


def parse_hints(entries, frame_shape: tuple[int, int], name: str = "hints") -> list[Hint]:
    """Hints of one frame given as dicts (as in the JSON file, without frame or time)."""
    return [_hint(e, f"{name}: hint {i + 1}", frame_shape) if isinstance(e, dict) else _not_a_hint(name, i)
            for i, e in enumerate(entries)]


def _not_a_hint(name: str, i: int):
    raise VidcolorError(f"{name}: hint {i + 1}: expected an object with x and y (or points) and color")


def _frame(entry: dict, where: str, rate: Fraction) -> int:
    if "frame" in entry:
        number = entry["frame"]
        if not isinstance(number, int) or number < 0:
            raise VidcolorError(f"{where}: frame must be a whole number from 0, not {number!r}")
        return number
    if "time" in entry:
        seconds = parse_time(str(entry["time"]), f"{where}: time")
        return round(Fraction(seconds).limit_denominator(1_000_000) * rate)
    raise VidcolorError(f"{where}: give its frame (a number from 0) or its time")


def _hint(entry: dict, where: str, frame_shape: tuple[int, int]) -> Hint:
    h, w = frame_shape
    raw = entry.get("points", [[entry.get("x"), entry.get("y")]])
    try:
        points = tuple((float(x), float(y)) for x, y in raw)
    except (TypeError, ValueError):
        raise VidcolorError(f"{where}: give x and y (pixels), or points as [[x, y], ...]") from None
    for x, y in points:
        if not (0 <= x < w and 0 <= y < h):
            raise VidcolorError(f"{where}: ({x:g}, {y:g}) is outside the {w}x{h} frame")
    radius = entry.get("radius", 3)
    if not isinstance(radius, (int, float)) or radius <= 0:
        raise VidcolorError(f"{where}: radius must be a positive number of pixels, not {radius!r}")
    return Hint(points, _chroma(entry.get("color"), where), float(radius))


def _chroma(color, where: str) -> tuple[float, float]:
    if isinstance(color, str) and (m := _HEX.match(color)):
        rgb = [int(m[1][i:i + 2], 16) for i in (0, 2, 4)]
    elif isinstance(color, list) and len(color) == 3 and all(isinstance(c, int) and 0 <= c <= 255 for c in color):
        rgb = color
    else:
        raise VidcolorError(f"{where}: color must be \"#rrggbb\" or [r, g, b] (0-255), not {color!r}")
    a, b = lab.split(np.uint8([[rgb]]))[1][0, 0]
    return float(a), float(b)


def hints_reference(hints: list[Hint], L: np.ndarray, ab: np.ndarray, frame_shape: tuple[int, int]):
    """The frame's hints as a reference on the chroma's grid: ``frame_reference.Reference`` (ab, weight).
    ``L`` and ``ab`` are the frame's lightness and the model's ab, both on the grid."""
    gh, gw = ab.shape[:2]
    scale = min(1.0, SOLVE_SIZE / max(gh, gw))
    sh, sw = max(1, round(gh * scale)), max(1, round(gw * scale))
    small_L = cv2.resize(L, (sw, sh), interpolation=cv2.INTER_AREA)
    small_ab = cv2.resize(ab, (sw, sh), interpolation=cv2.INTER_AREA)
    coverage = np.zeros((sh, sw), np.float32)
    target = np.zeros((sh, sw, 2), np.float32)
    H, W = frame_shape
    for hint in hints:
        mask = np.zeros((sh, sw), np.uint8)
        pts = np.int32([[round(x * sw / W), round(y * sh / H)] for x, y in hint.points])
        r = max(1, round(hint.radius * max(sw / W, sh / H)))
        for p in pts:
            cv2.circle(mask, tuple(int(v) for v in p), r - 1, 1, -1)
        if len(pts) > 1:
            cv2.polylines(mask, [pts], False, 1, thickness=max(1, 2 * r - 1))
        on = mask.astype(bool)
        coverage[on] = 1.0
        target[on] = hint.ab
    correction = np.where(coverage[..., None] > 0, target - small_ab, 0).astype(np.float32)
    x = solve(small_L, coverage, np.dstack([correction, coverage]))
    reach = np.clip(x[..., 2], 0.0, 1.0)
    spread = x[..., :2] / np.maximum(x[..., 2:], 1e-3)
    up = (gw, gh)
    reach = cv2.resize(reach, up, interpolation=cv2.INTER_LINEAR)
    spread = cv2.resize(spread, up, interpolation=cv2.INTER_LINEAR)
    return Reference((ab + spread).astype(np.float32), reach.astype(np.float32), sampled=True)


def solve(L: np.ndarray, coverage: np.ndarray, rhs_values: np.ndarray) -> np.ndarray:
    """x minimising the energy in the module's docstring for each channel of ``rhs_values`` (the
    corrections c at the hints, 0 elsewhere), by conjugate gradients: (G + MU + H) x = H c."""
    weights = [np.exp(-((L[:, 1:] - L[:, :-1]) ** 2) / (2 * SIGMA ** 2)).astype(np.float32),
               np.exp(-((L[1:] - L[:-1]) ** 2) / (2 * SIGMA ** 2)).astype(np.float32)]
    diagonal = (MU + coverage)[..., None]

    def apply(x):
        out = diagonal * x
        dx = (x[:, 1:] - x[:, :-1]) * weights[0][..., None]
        out[:, 1:] += dx
        out[:, :-1] -= dx
        dy = (x[1:] - x[:-1]) * weights[1][..., None]
        out[1:] += dy
        out[:-1] -= dy
        return out

    b = coverage[..., None] * rhs_values
    x = np.zeros_like(b)
    r = b - apply(x)
    p = r.copy()
    rs = (r * r).sum(axis=(0, 1))
    for _ in range(ITERATIONS):
        ap = apply(p)
        alpha = rs / np.maximum((p * ap).sum(axis=(0, 1)), 1e-20)
        x += alpha * p
        r -= alpha * ap
        new = (r * r).sum(axis=(0, 1))
        if (new <= 1e-10 * np.maximum((b * b).sum(axis=(0, 1)), 1e-20)).all():
            break
        p = r + (new / np.maximum(rs, 1e-30)) * p
        rs = new
    return x
