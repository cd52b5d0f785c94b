"""Colorize a video, a still, or a folder of stills: the one implementation behind the CLI, the
API, the batch and the web app. A film's frames go through ``run.film``; a film long enough is
colorized in segments that a rerun resumes (``resume``); stills through ``stills``.
"""
from __future__ import annotations

import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av

from .console import for_run
from .errors import OptionError, VidcolorError, option
from .media.atomic import atomic_output, check_output_path, remove_stale_partials
from .media.decode import EDIT_LIST_SLACK, expected_frames, stream_has_alpha
from .media.encode import output_muxer
from .media.images import is_image_path
from .media.interlace import PROGRESSIVE, Interlace, detect as detect_interlace
from .media.probe import frame_rate, open_input, video_stream
from .media.sequence import is_pattern
from .media.streams import plan_streams
from .media.timeline import Span, make_span
from .metrics import Report
from .metrics.video import time_ranges
from .models import Colorizer
from .models.colorizer import on_gpu
from .options import AUTO, RunOptions
from .progress import KeepingNotices, Listener, Progress
from .provenance import record
from .resume.film import one_piece_reason
from .resume.resumable import colorize_resumable
from .resume.segments import MIN_SEGMENT_SECONDS, SEGMENT_WORK
from .run.colorizer import load_colorizer, net_settings
from .run.film import RunSpan, encode_span
from .stills import colorize_folder, colorize_image, still_reference
from .summary import Summary
from .temporal.flow import FLOW_SIZE
from .temporal.reference_files import film_references


def run_options(options: RunOptions | None, changes: dict, colorizer: Colorizer | None = None) -> RunOptions:
    """``options`` (or the defaults) with the keyword ``changes``, checked; a given ``colorizer``'s
    parity is the run's."""
    options = RunOptions.from_mapping(changes) if options is None else options.replace(**changes) if changes \
        else options
    if colorizer is not None and colorizer.parity != options.model.parity:
        options = options.replace(parity=colorizer.parity)
    return options


def colorize_video(src, dst, options: RunOptions | None = None, *, colorizer: Colorizer | None = None,
                   report=None, overwrite: bool = False, quiet: bool = False, on_progress: Listener | None = None,
                   **kwargs) -> Summary:
    """Colorize the video ``src`` into ``dst``; every audio and subtitle stream is copied untouched.

    ``options``: a ``RunOptions``, or its fields as keywords (``preset="archive"``, ``start=90``;
    both: the keywords change the options). Among them: ``preset`` is an output recipe (``web``,
    the default, ``archive``, ``master`` or ``preview``, see ``vidcolor.media.presets``) whose
    choices ``codec``, ``crf`` and ``pix_fmt`` override. ``deinterlace``: ``auto`` (interlaced
    sources are detected and deinterlaced, with a notice), ``on`` or ``off``. ``src`` may be an
    image sequence, a printf pattern (``scans/%06d.dpx``) or a folder of frames, read at ``fps``
    frames per second (24 by default).

    ``skip_color``: shots already in color (``temporal.color_shots``) are left as they are, and
    only the black-and-white ones are colorized; by default every frame is colorized.

    ``audio``: ``auto`` copies each audio stream where the output's container holds it and
    re-encodes it where not (losslessly where the container has a lossless codec: FLAC in
    Matroska, ALAC in QuickTime and MP4), ``copy`` never re-encodes (what cannot be held is
    left out, with a warning), an encoder's name (``flac``, ``aac``, ...) re-encodes every one.

    The color is smoothed over time along the input's motion (``smooth_strength`` from 0, off,
    to 1; ``None`` is the default, and off in parity mode, which promises the official per-frame
    colors). ``report`` names a JSON file for the temporal-quality metrics of the unsmoothed and
    smoothed color, the scene cuts, and the frames where the flow was not trusted.

    A film is colorized in segments kept in a hidden folder beside ``dst`` until it is joined: the
    same call after an interruption (a crash, SIGKILL, Ctrl-C, a full disk) colorizes only what is
    missing. ``segment_seconds``: ``"auto"`` (about a minute of work each, at the pace measured on
    the first, never under two seconds of film), seconds of film, or None (one piece). Work of
    another input, other options or other weights is discarded, and ``fresh`` discards it anyway.

    ``references``: colors the film must follow (``vidcolor.temporal.references``): folders of
    keyframes named by frame number or timecode, ``FILE@TIME`` strings, or a dict
    ``{frame number: image or file}``, frames counted from the first picture. ``hints``: a JSON
    file of color points and strokes (``vidcolor.temporal.hints``).

    Progress goes to bars on stderr (unless ``quiet``) and to ``on_progress``, a callable given
    each ``vidcolor.progress.Event`` (frames done of the total, the pace, an estimate of the time
    left, notes), from the calling thread.
    """
    src, dst = Path(src), Path(dst)
    options = run_options(options, kwargs, colorizer)
    progress = KeepingNotices(for_run(quiet, on_progress))
    notices = progress.notices
    check_output_path(src, dst, overwrite)
    remove_stale_partials(dst)
    if report is not None:
        check_output_path(src, report, overwrite)
        if Path(report).resolve() == dst.resolve():
            raise OptionError("report", f"{report}: the report and the video cannot be the same file")
    part, strength, seconds = options.part, options.strength, options.resume.segment_seconds
    gpu = colorizer.device.type == "cuda" if colorizer is not None else on_gpu(options.model.device)
    settings = replace(options.encode, keep_up=gpu)
    # Without smoothing the motion is only followed when a report asks for it.
    smoothing = strength if strength or report is not None else None
    skip_color = options.color.skip_color
    t0 = time.perf_counter()

    made: dict = {}

    def provenance_of(net: Colorizer) -> dict:
        """How the output is made (once the model and the output's settings are known)."""
        if not made:
            made.update(record(src, net.model_name, net.weights_path, {
                **net_settings(net), "codec": settings.codec, "pix_fmt": settings.pix_fmt, "crf": settings.crf,
                "preset": settings.preset, "encoder_preset": settings.encoder_preset, "smooth_strength": strength,
                "start": part.start, "duration": part.duration, "skip_color": skip_color, "fps": part.fps,
                "deinterlace": interlace.reason if interlace.field_order else None,
                "references": guide.identity if guide else None}))
        return made

    def make_report(net: Colorizer) -> Report | None:
        return None if report is None else Report(
            ("unsmoothed", "smoothed") if strength else ("unsmoothed",), input=str(src), output=str(dst),
            model=net.model_name, input_size=net.input_size, smooth_strength=strength, flow_size=FLOW_SIZE,
            provenance=provenance_of(net))

    def network() -> Colorizer:
        return load_colorizer(options.model, colorizer, progress)

    sequence = is_pattern(src) or src.is_dir()
    if part.fps is not None and not sequence:
        raise OptionError("fps", f"{src}: {option('fps')} is for image sequences; a video file keeps its own timing")
    with open_input(src, part.fps) as container:
        stream = video_stream(container, src)
        span = make_span(container, stream, src, part.start, part.duration)
        total = expected_frames(stream, container, span)
        # Refuse what cannot be written before anything is read or decoded.
        cc = stream.codec_context
        settings, notes = settings.resolve(output_muxer(dst), dst, cc.width, cc.height, stream_has_alpha(stream))
        for note, lost in notes:
            progress.note(f"{dst}: {note}", lost)
        plan = None if sequence else plan_streams(container, stream, settings.muxer, options.audio)  # scans: video alone
        for note in plan.warnings(src, dst) if plan else ():
            progress.note(note, lost=True)
        interlace = PROGRESSIVE if sequence else interlace_of(src, part.deinterlace, progress)  # scans: whole frames
        total = None if total is None else interlace.output_frames(total)
        guide = film_references(src, container, stream, options.guides.given(), options.guides.hints, interlace,
                                progress) if options.guides else None
        step = frame_step(stream, interlace)
        net = None
        shortest = MIN_SEGMENT_SECONDS if seconds == AUTO else seconds
        if seconds is not None and _longer_than(container, stream, span, shortest):
            why = one_piece_reason(codec=settings.codec, skip_color=skip_color, interlace=interlace,
                                   report=report is not None, sequence=sequence)
            if why is None:
                net = network()
                summary = colorize_resumable(src, dst, options, span=span, settings=settings, interlace=interlace,
                                             net=net, progress=progress, provenance=provenance_of(net), guide=guide)
                if summary is not None:
                    return replace(summary, notes=notices.notes, warnings=notices.warnings)
            elif not quiet and (seconds != AUTO or _longer_than(container, stream, span, SEGMENT_WORK)):
                progress.note(f"{dst}: this run is done in one piece and cannot resume if interrupted: {why}")
        with atomic_output(dst) as tmp:
            run = encode_span(src, dst, tmp, container, stream, settings, RunSpan(span), smoothing,
                              lambda: net or network(), make_report, total, plan=plan, progress=progress,
                              interlace=interlace, skip_color=skip_color, make_provenance=provenance_of, guide=guide)
            if run.count == 0:
                raise VidcolorError(f"{src}: no video frames" + ("" if span.whole else
                                                                 f" in the requested part ({span.where()})"))
            announced = interlace.output_frames(stream.frames)
            if span.whole and announced and run.count < announced - EDIT_LIST_SLACK:
                raise VidcolorError(f"{src}: truncated or damaged: decoded {run.count} of the {announced} frames it "
                                    "announces" + (" (after inverse telecine)" if announced != stream.frames else ""))
    if run.report is not None:
        run.report.write(report)
    return Summary(output=str(dst), frames=run.count, seconds=time.perf_counter() - t0, model=run.net.model_name,
                   device=str(run.net.device), streams_copied=run.writer.copied, streams_dropped=run.writer.dropped,
                   smooth_strength=strength, scene_cuts=run.cuts, frames_kept=run.kept,
                   report=None if report is None else str(report), provenance=made,
                   needs_reference=time_ranges(run.unreached, step), notes=notices.notes, warnings=notices.warnings)


def colorize_path(src, dst, options: RunOptions | None = None, *, recursive: bool = False, report=None,
                  **kwargs) -> Summary:
    """Dispatch on what ``src`` is: a folder of stills, a still image, or a video; a folder or a
    printf pattern of frames written to a video file is an image sequence. ``kwargs``: the
    options by name, and ``colorize_video``'s own keywords (``colorizer``, ``overwrite``, ...)."""
    src, dst = Path(src), Path(dst)
    call = {k: kwargs.pop(k) for k in ("colorizer", "overwrite", "quiet", "on_progress") if k in kwargs}
    options = run_options(options, kwargs)
    to_video = bool(dst.suffix) and not is_image_path(dst)
    if is_pattern(src) or (src.is_dir() and to_video) or not (src.is_dir() or is_image_path(src)):
        if recursive:
            raise OptionError("recursive", f"{src}: {option('recursive')} is for a folder of stills written to a folder")
        return colorize_video(src, dst, options, report=report, **call)
    if options.part.fps is not None:
        raise OptionError("fps", f"{src}: {option('fps')} is for image sequences written to a video; {dst} is a "
                                 "still or folder")
    if report is not None:
        raise OptionError("report", f"{src}: {option('report')} measures video over time; it does not apply to stills")
    if options.color.smooth_strength:
        raise OptionError("smooth_strength", f"{src}: {option('smooth_strength')} smooths a film's color over time; a "
                                             "still has no time to smooth over")
    still = {"skip_color": options.color.skip_color, **options.model.colorizer_kwargs(), **call}
    guides = options.guides
    if not src.is_dir():
        if recursive:
            raise OptionError("recursive", f"{src}: {option('recursive')} is for a folder of stills")
        return colorize_image(src, dst, reference=still_reference(guides.references) if guides.references else None,
                              hints=guides.hints, **still)
    if guides:
        raise OptionError("references", f"{src}: references are for one film or one still, not a folder of stills")
    return colorize_folder(src, dst, recursive=recursive, **still)


def frame_step(stream, interlace: Interlace = PROGRESSIVE) -> float:
    """Seconds between the output's frames (at its nominal rate)."""
    return float(1 / (interlace.output_rate(frame_rate(stream)) or 25))


def _longer_than(container, stream, span: Span, seconds: float) -> bool:
    """Whether the part of the film to colorize may last longer than ``seconds`` (unknown: yes)."""
    if span.start is not None and span.end is not None:
        return span.end - span.start > seconds
    if stream.duration:
        first = Fraction(stream.start_time or 0) * stream.time_base
        end = first + stream.duration * stream.time_base
    elif container.duration:
        first = Fraction(container.start_time or 0, av.time_base)
        end = first + Fraction(container.duration, av.time_base)
    else:
        return True
    return min(end, span.end or end) - (span.start if span.start is not None else first) > seconds


def interlace_of(src: Path, mode: str, progress: Progress) -> Interlace:
    """Whether and how to deinterlace ``src`` under ``mode``; tells the user."""
    found = detect_interlace(src, mode)
    flag = option("deinterlace")
    if found.telecined and mode == "auto":
        progress.note(f"{src}: {found.reason}; the film frames are matched back from their fields and the "
                      "repeated one of five dropped (inverse telecine: fieldmatch, decimate) before colorizing "
                      f"({flag} on to deinterlace every frame instead, off to keep the fields)")
    elif found.field_order and mode == "auto":
        progress.note(f"{src}: interlaced: {found.reason}; deinterlacing each frame (bwdif) before "
                      f"colorizing ({flag} off to keep the fields)")
    elif mode == "auto" and found.reason != "progressive":
        progress.note(f"{src}: {found.reason}")
    return found
