"""A film colorized in segments, each committed as it is finished, then joined: what lets a run
resume inside a film. The batch runner (many films, on an engine) and the single-file command
(one film, in this process) both work through it.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..errors import VidcolorError, option
from ..media.atomic import atomic_output
from ..media.interlace import Interlace
from ..media.join import join_segments, segment_suffix
from ..media.streams import StreamPlan
from ..media.timeline import Span
from ..metrics.video import time_ranges
from ..media.decode import EDIT_LIST_SLACK
from ..run.film import RunSpan, SharedColors
from ..temporal.reference_files import Carry
from .manifest import Manifest
from .segments import Plan, Segment

def one_piece_reason(*, codec: str, skip_color: bool = False, interlace: Interlace | None = None,
                     report: bool = False, sequence: bool = False) -> str | None:
    """Why a film must be colorized in one piece (and so cannot resume inside), or None."""
    if sequence:
        return "an image sequence is read in one pass"
    if report:
        return f"{option('report')} measures the whole film in one pass"
    if skip_color:
        return f"{option('skip_color')} decides each shot from the film's history"
    if interlace is not None and interlace.telecined:
        return "the 3:2 pulldown's phase runs through the whole film"
    if segment_suffix(codec) is None:
        return f"segments of {codec} cannot be kept in QuickTime files"
    return None


class SegmentedFilm:
    """The segments of one film under ``plan``: their files in ``work``, their record in ``manifest``
    under the item ``key``."""

    def __init__(self, manifest: Manifest, key: str, plan: Plan, work: Path, codec: str, carried: bool = False):
        """``carried``: each segment starts from colors the one before saved (references); they
        must then run in order."""
        self.manifest, self.key, self.plan, self.work = manifest, key, plan, work
        suffix = segment_suffix(codec)
        self.parts = [work / f"{plan.key}-{s.index:05d}{suffix}" for s in plan.segments]
        # What segment i starts from, saved by segment i - 1.
        self.states = [None] + [work / f"{plan.key}-{s.index:05d}.carried.npz" for s in plan.segments[1:]] \
            if carried else None

    def carry(self, segment: Segment) -> Carry:
        if self.states is None:
            return Carry()
        i = segment.index
        following = self.plan.segments[i + 1] if i + 1 < len(self.plan.segments) else None
        return Carry(self.states[i], following and self.states[i + 1], following and following.decode.start)

    def run_part(self, segment: Segment, shared: bool = False) -> RunSpan:
        """What a run of ``segment`` decodes and writes, carries and (``shared``: segments run in
        order, the single-file command) shares with the segments beside it."""
        return RunSpan(segment.decode, segment.emit, self.carry(segment),
                     self.shared(segment) if shared else SharedColors())

    def shared(self, segment: Segment) -> SharedColors:
        """Where the segment finds the network's colors of the frames the one before colorized, and
        leaves those of the next one's: segments run in order (the single-file command)."""
        i, segments = segment.index, self.plan.segments
        return SharedColors(self.work / f"{self.plan.key}-{i:05d}.ab.npz" if i else None,
                            self.work / f"{self.plan.key}-{i + 1:05d}.ab.npz" if i + 1 < len(segments) else None,
                            segments[i + 1].decode.start if i + 1 < len(segments) else None)

    def todo(self) -> list[tuple[Segment, Path]]:
        """Record the plan, clear what other plans (and killed runs) left in the work folder, and
        return the segments still to colorize, each with the file it goes to."""
        self.manifest.use_plan(self.key, self.plan.key, len(self.plan.segments))
        finished = self.manifest.segments_done(self.key, self.plan.key)
        self.work.mkdir(parents=True, exist_ok=True)
        for stale in self.work.iterdir():
            if not stale.name.startswith(self.plan.key):  # a partial file starts with a dot
                stale.unlink()
        return [(s, part) for s, part in zip(self.plan.segments, self.parts)
                if not (s.index in finished and part.is_file() and self._saved(s.index))]

    def _saved(self, index: int) -> bool:
        """Whether what the segment after ``index`` starts from is there (where there is one to save)."""
        return self.states is None or index + 1 >= len(self.states) or self.states[index + 1].is_file()

    def record(self, index: int, frames: int, colorized: int, seconds: float, cuts: list[float],
               unreached: list[float] = ()) -> None:
        """A segment finished; ``unreached``: the times of its frames the references hold less than
        half of, kept beside it (before it counts as done) for the report of the whole film."""
        if unreached:
            with atomic_output(self._unreached(index)) as tmp:
                tmp.write_text(json.dumps(sorted(unreached)))
        self.manifest.segment_done(self.key, self.plan.key, index, frames, colorized, seconds, cuts)

    def _unreached(self, index: int) -> Path:
        return self.work / f"{self.plan.key}-{index:05d}.unreached.json"

    @property
    def needs_reference(self) -> list[list[float]]:
        """[first, last] runs of the film's frames (seconds on the output's clock) the references
        hold less than half of, from every finished segment."""
        times = []
        for index in self.manifest.segments_done(self.key, self.plan.key):
            try:
                times += json.loads(self._unreached(index).read_text())
            except (OSError, ValueError):
                pass  # none kept: a segment the references reach everywhere
        return time_ranges(times, self.plan.step)

    @property
    def done(self) -> int:
        return len(self.manifest.segments_done(self.key, self.plan.key))

    @property
    def frames(self) -> int:
        """Frames written by the finished segments."""
        return sum(f for f, _ in self.manifest.segments_done(self.key, self.plan.key).values())

    @property
    def cuts(self) -> list[float]:
        return self.manifest.cuts(self.key, self.plan.key)

    def join(self, src: Path, dst: Path, span: Span, audio: str = "auto", provenance: dict | None = None) -> StreamPlan:
        """Write ``dst`` from the finished segments and the input's other streams (no re-encoding);
        returns what became of those streams."""
        frames = self.frames
        if frames == 0:
            raise VidcolorError(f"{src}: no video frames" + ("" if span.whole else " in the requested part"))
        if frames < self.plan.frames - EDIT_LIST_SLACK:
            raise VidcolorError(f"{src}: truncated or damaged: decoded {frames} of the {self.plan.frames} frames "
                                "its packets announce")
        with atomic_output(dst) as tmp:
            return join_segments(self.parts, tmp, dst, src, span, audio, provenance)

    def discard(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)
