"""Measure the temporal quality of any colorized video against the gray video it came from."""
from __future__ import annotations

from contextlib import ExitStack, closing
from itertools import zip_longest
from pathlib import Path

from . import lab
from .errors import VidcolorError
from .media.atomic import check_output_path
from .media.decode import decode_frames
from .media.probe import open_input, video_stream
from .media.timeline import Span
from .metrics import Report
from .stages import prefetch
from .temporal import MotionTracker
from .temporal.flow import FLOW_SIZE


def evaluate_video(input, colorized, *, reference=None, report=None, overwrite: bool = False,
                   flow_size: int = FLOW_SIZE) -> dict:
    """E_warp, CDC and colorfulness of ``colorized`` (and its ab error to ``reference``, the true
    colors), with the flow computed on ``input``'s lightness; scene cuts and weak-flow frames too.

    The videos must have the same frames, in number and size. Returns the report as a dict and
    writes it as JSON to ``report`` if given.
    """
    paths = [Path(input), Path(colorized)] + ([Path(reference)] if reference is not None else [])
    if report is not None:
        for p in paths:
            check_output_path(p, report, overwrite)
    tracker = MotionTracker(flow_size)
    metrics = Report(("colorized",), input=str(paths[0]), colorized=str(paths[1]),
                     reference=None if reference is None else str(paths[2]), flow_size=flow_size)
    with ExitStack() as stack:
        decoders = []
        for path in paths:
            container = stack.enter_context(open_input(path))
            stream = video_stream(container, path)
            frames = prefetch(decode_frames(container, stream, Span(), path), maxsize=4, name=f"decode {path.name}")
            decoders.append((path, stream.time_base, stack.enter_context(closing(frames))))
        count = 0
        for frames in zip_longest(*(d[2] for d in decoders)):
            _check_alike(frames, decoders, count)
            source = frames[0]
            step = tracker.push(lab.lightness(lab.to_float(source.rgb)))
            metrics.add(float(source.pts * decoders[0][1]), step,
                        reference=frames[2].rgb if len(frames) > 2 else None, colorized=frames[1].rgb)
            count += 1
    if count == 0:
        raise VidcolorError(f"{paths[0]}: no video frames")
    return metrics.write(report) if report is not None else metrics.to_dict()


def _check_alike(frames, decoders, index: int) -> None:
    paths = [d[0] for d in decoders]
    for f, path in zip(frames, paths):
        if f is None:
            longer = next(p for g, p in zip(frames, paths) if g is not None)
            raise VidcolorError(f"{path}: ends after {index} frames, but {longer} goes on; "
                                "compare videos with the same frames")
        if f.rgb.shape != frames[0].rgb.shape:
            (h, w), (H, W) = f.rgb.shape[:2], frames[0].rgb.shape[:2]
            raise VidcolorError(f"{path}: frame {index} is {w}x{h}, but {paths[0]} is {W}x{H}")
