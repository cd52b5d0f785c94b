"""Measure the temporal quality of any colorized video against the gray video it came from."""
from __future__ import annotations

from contextlib import ExitStack, closing
from itertools import zip_longest
from pathlib import Path

from . import lab
from .errors import VidcolorError, option
from .media.atomic import check_output_path
from .media.decode import decode_frames, expected_frames
from .media.probe import open_input, video_stream
from .media.timeline import Span, make_span, parse_time
from .metrics import Report
from .console import for_run
from .progress import Listener
from .stages import prefetch
from .temporal import MotionTracker
from .temporal.flow import FLOW_SIZE


def evaluate_video(input, colorized, *, reference=None, report=None, overwrite: bool = False,
                   flow_size: int = FLOW_SIZE, start=None, duration=None, quiet: bool = True,
                   on_progress: Listener | None = None) -> dict:
    """E_warp, CDC and colorfulness of ``colorized`` (and its ab error to ``reference``, the true
    colors), with the flow computed on ``input``'s lightness; scene cuts and weak-flow frames too.

    The videos must have the same frames, in number and size. ``colorized`` may be a part made
    with ``start`` and ``duration``: given the same, they select that part of ``input`` (and of
    ``reference``). Returns the report as a dict and writes it as JSON to ``report`` if given.
    Progress: bars unless ``quiet``, and events to ``on_progress`` (see ``colorize_video``).
    """
    paths = [Path(input), Path(colorized)] + ([Path(reference)] if reference is not None else [])
    if report is not None:
        for p in paths:
            check_output_path(p, report, overwrite)
    start_s, duration_s = parse_time(start, option("start")), parse_time(duration, option("duration"))
    progress = for_run(quiet, on_progress)
    tracker = MotionTracker(flow_size)
    metrics = Report(("colorized",), input=str(paths[0]), colorized=str(paths[1]),
                     reference=None if reference is None else str(paths[2]), flow_size=flow_size)
    with ExitStack() as stack:
        decoders, total = [], None
        for path in paths:
            container = stack.enter_context(open_input(path))
            stream = video_stream(container, path)
            span = Span() if path == paths[1] else make_span(container, stream, path, start_s, duration_s)
            if path == paths[1]:
                total = expected_frames(stream, container)
            frames = prefetch(decode_frames(container, stream, span, path), maxsize=4, name=f"decode {path.name}")
            decoders.append((path, stream.time_base, stack.enter_context(closing(frames))))
        task = stack.enter_context(progress.task("eval", f"measuring {paths[1].name}", total))
        count = 0
        for frames in zip_longest(*(d[2] for d in decoders)):
            _check_alike(frames, decoders, count, start_s is not None or duration_s is not None)
            source = frames[0]
            step = tracker.push(lab.lightness(lab.to_float(source.rgb)))
            metrics.add(float(source.pts * decoders[0][1]), step,
                        reference=frames[2].rgb if len(frames) > 2 else None, colorized=frames[1].rgb)
            count += 1
            task.advance()
    if count == 0:
        raise VidcolorError(f"{paths[0]}: no video frames")
    return metrics.write(report) if report is not None else metrics.to_dict()


def _check_alike(frames, decoders, index: int, part: bool) -> None:
    paths = [d[0] for d in decoders]
    for f, path in zip(frames, paths):
        if f is None:
            longer = next(p for g, p in zip(frames, paths) if g is not None)
            start, duration = option("start"), option("duration")
            hint = "" if part else f"; for a part made with {start} or {duration}, measure it with the same {start} " \
                                   f"and {duration}"
            raise VidcolorError(f"{path}: ends after {index} frames, but {longer} goes on; "
                                f"compare videos with the same frames{hint}")
        if f.rgb.shape != frames[0].rgb.shape:
            (h, w), (H, W) = f.rgb.shape[:2], frames[0].rgb.shape[:2]
            raise VidcolorError(f"{path}: frame {index} is {w}x{h}, but {paths[0]} is {W}x{H}")
