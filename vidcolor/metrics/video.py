"""All the temporal-quality metrics of one or more colorized versions of a video, streaming."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .. import lab
from ..media.atomic import atomic_output
from ..temporal.motion import Step
from .cdc import CDC
from .colorfulness import colorfulness
from .warp_error import pair_error, work_rgb

UNTRUSTED = 0.5  # a frame whose predecessor explains less than this share of it is listed
NEEDS_REFERENCE = 0.5  # a guided frame whose pixels the references hold less than this share of is listed


def time_ranges(times, step: float) -> list[list[float]]:
    """``times`` (seconds, any order) as ``[first, last]`` runs of frames at most ``step`` apart."""
    out: list[list[float]] = []
    for t in sorted(times):
        if out and t - out[-1][1] <= step * 1.5:
            out[-1][1] = t
        else:
            out.append([t, t])
    return out

DEFINITIONS = {
    "e_warp": "Lai et al. 2018 warping error on the input's DIS flow, RGB in [0, 1], 480 px working "
              "resolution, pairs across scene cuts left out; lower is steadier",
    "cdc": "TCVC / NTIRE 2023 color distribution consistency: JS divergence of RGB histograms at "
           "frame distances 1, 2, 4; lower is steadier",
    "colorfulness": "DDColor's colorfulness (Hasler & Suesstrunk, absolute opponents), mean over frames",
    "ab_error": "mean Euclidean distance in Lab ab to the reference video's colors",
}


class VideoMetrics:
    """``update`` with each colorized frame and its motion ``Step``, in order; then ``result``."""

    def __init__(self):
        self._cdc = CDC()
        self._prev: np.ndarray | None = None
        self._warp = [0.0, 0]
        self._colorfulness = [0.0, 0]
        self._ab_error = [0.0, 0]

    def update(self, rgb: np.ndarray, step: Step, reference_ab: np.ndarray | None = None) -> None:
        small = work_rgb(rgb, step.L.shape)
        if step.pair is not None and self._prev is not None:
            e = pair_error(self._prev, small, step.pair)
            if e is not None:
                self._warp[0] += e
                self._warp[1] += 1
        self._prev = small
        self._cdc.update(rgb)
        self._colorfulness[0] += colorfulness(rgb)
        self._colorfulness[1] += 1
        if reference_ab is not None:
            self._ab_error[0] += float(np.linalg.norm(lab.split(rgb)[1] - reference_ab, axis=2).mean())
            self._ab_error[1] += 1

    def result(self) -> dict:
        out = {"e_warp": _mean(self._warp), "warp_pairs": self._warp[1], "cdc": self._cdc.value,
               "colorfulness": _mean(self._colorfulness)}
        if self._ab_error[1]:
            out["ab_error"] = _mean(self._ab_error)
        return out


def _mean(acc) -> float | None:
    return acc[0] / acc[1] if acc[1] else None


class Report:
    """Metrics for named versions of the same frames (say raw and smoothed), cuts and weak flow."""

    def __init__(self, versions: tuple[str, ...], **meta):
        self.meta = dict(meta)
        self._metrics = {v: VideoMetrics() for v in versions}
        self._frames = 0
        self.cuts: list[dict] = []
        self.untrusted: list[dict] = []
        self.shots: list[dict] = []  # with references: per shot, how far they hold
        self.needs_reference: list[dict] = []

    def add(self, time: float, step: Step, reference: np.ndarray | None = None, *, reach: float | None = None,
            referenced: str | None = None, **frames: np.ndarray) -> None:
        """A frame's metrics; for a run with references, ``reach`` (the share of its pixels they
        hold) and ``referenced`` (the kind of reference the frame itself has: keyframe, hints)."""
        where = {"frame": self._frames, "time": round(time, 6), "trust": round(step.trust, 3)}
        if step.cut:
            self.cuts.append(where)
        elif step.pair is not None and step.trust < UNTRUSTED:
            self.untrusted.append(where)
        if reach is not None:
            self._reached(where, step, reach, referenced)
        reference_ab = None if reference is None else lab.split(reference)[1]
        for name, rgb in frames.items():
            self._metrics[name].update(rgb, step, reference_ab)
        self._frames += 1

    def _reached(self, where: dict, step: Step, reach: float, referenced: str | None) -> None:
        at = {"frame": where["frame"], "time": where["time"]}
        if step.pair is None or not self.shots:  # a shot starts
            self.shots.append({"first_frame": at["frame"], "time": at["time"], "frames": 0, "mean_reach": 0.0,
                               "min_reach": 1.0, "references": []})
        shot = self.shots[-1]
        shot["mean_reach"] = (shot["mean_reach"] * shot["frames"] + reach) / (shot["frames"] + 1)
        shot["frames"] += 1
        shot["min_reach"] = min(shot["min_reach"], reach)
        if referenced:
            shot["references"].append({**at, "kind": referenced})
        if reach < NEEDS_REFERENCE:
            self.needs_reference.append({**at, "reach": round(reach, 3)})

    def to_dict(self) -> dict:
        metrics = {name: m.result() for name, m in self._metrics.items()}
        used = {k for m in metrics.values() for k in m}
        out = {**self.meta, "frames": self._frames, "metrics": metrics, "scene_cuts": self.cuts,
               "untrusted_frames": self.untrusted,
               "definitions": {k: v for k, v in DEFINITIONS.items() if k in used}}
        if self.shots:
            out["references"] = {
                "needs_reference_below": NEEDS_REFERENCE,
                "shots": [{**s, "mean_reach": round(s["mean_reach"], 3), "min_reach": round(s["min_reach"], 3)}
                          for s in self.shots],
                "needs_reference": self.needs_reference}
        return out

    def write(self, path: str | Path) -> dict:
        data = self.to_dict()
        with atomic_output(path) as tmp:
            tmp.write_text(json.dumps(data, indent=2) + "\n")
        return data
