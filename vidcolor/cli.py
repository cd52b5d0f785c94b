"""The command line: parses options and calls the public API; nothing else lives here."""
from __future__ import annotations

import os
import signal
import sys
import warnings
from pathlib import Path

import click
import cloup

from .console import item_lines, notice_line, status_lines, table
from .errors import OUT_OF_SPACE, Interrupted, VidcolorError, options_spelled, write_failure
from .media.interlace import MODES as INTERLACE_MODES
from .media.presets import PRESETS
from .models.registry import DEFAULT_MODEL, MODELS

EXIT_INTERRUPTED = 130
# What `vidcolor --help` shows of the colorize command's options.
COMMON_OPTIONS = ("output", "model", "input_size", "device", "preset", "start", "duration", "smooth_strength",
                  "skip_color", "overwrite")


class _Vidcolor(cloup.Group):
    """`vidcolor INPUT -o OUTPUT` runs `colorize`; errors become one line and an exit code."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["colorize", *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx, formatter):
        formatter.write_usage(ctx.command_path, "INPUT -o OUTPUT [OPTIONS]")
        formatter.write(f"   or: {ctx.command_path} COMMAND [ARGS]...\n")

    def format_help_text(self, ctx, formatter):
        """After the examples, the options most runs need (they are the colorize command's)."""
        super().format_help_text(ctx, formatter)
        colorize = self.commands["colorize"]
        sub = click.Context(colorize, info_name="colorize", parent=ctx)
        rows = [p.get_help_record(sub) for name in COMMON_OPTIONS for p in colorize.params if p.name == name]
        with formatter.section("Most used options (all of them, grouped: vidcolor colorize --help)"):
            formatter.write_dl(rows)

    def main(self, *args, **kwargs):
        signal.signal(signal.SIGTERM, _terminated)  # a scheduler's stop, or `timeout`: end as Ctrl-C does
        warnings.showwarning = _show_warning
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module="torch")
        try:
            with options_spelled(flag_of):  # the library's messages name its options as this command's flags
                return super().main(*args, standalone_mode=False, **kwargs)
        except click.exceptions.Abort as e:  # click's wrapping of Ctrl-C (and of SIGTERM, below)
            interrupt = e.__cause__
            if isinstance(interrupt, Interrupted):
                _fail(str(interrupt) if interrupt.kept else f"{interrupt}; no output was left behind",
                      interrupt.exit_code)
            _fail("interrupted; no output was left behind", EXIT_INTERRUPTED)
        except click.ClickException as e:
            e.show()
            sys.exit(e.exit_code)
        except click.exceptions.Exit as e:
            sys.exit(e.exit_code)
        except VidcolorError as e:
            _fail(str(e), e.exit_code)
        except Exception as e:  # a bug, not bad input: still one line unless asked for more
            if isinstance(e, OSError) and e.errno in OUT_OF_SPACE:  # a write no other handler saw
                _fail(str(write_failure(e.filename or "output", e)), 1)
            if os.environ.get("VIDCOLOR_DEBUG"):
                raise
            _fail(f"internal error: {type(e).__name__}: {e} (set VIDCOLOR_DEBUG=1 for the traceback)", 1)


def _terminated(signum, frame):
    raise Interrupted("terminated (SIGTERM)", 128 + signum)


def _fail(message: str, code: int):
    click.echo(f"vidcolor: error: {message}", err=True)
    sys.exit(code)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    click.echo(f"vidcolor: warning: {message}", err=True)


def _tell(event) -> None:
    """A run's notes and warnings, shown where its bars are not (``--quiet``)."""
    line = notice_line(event)
    if line:
        click.echo(line, err=True)


@click.group(cls=_Vidcolor, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vidcolor")
def main():
    """Colorize black-and-white film and photographs with DDColor.

    \b
      vidcolor film.mp4 -o film_color.mp4          a film: audio, subtitles and chapters copied
      vidcolor film.mp4 -o part.mp4 --start 1:30 --duration 20
      vidcolor photo.jpg -o photo_color.png        a still, or a folder of them
      vidcolor batch archive/ -o restored/         whole folders, resumable
    """


# The options of colorizing, shared by `colorize` and `batch`, in the groups people look for them in.
_TIME = "seconds or [HH:]MM:SS.ms, on the picture's clock: from its first frame, as a player shows it"
_COLORIZE_GROUPS = {
    "Model": [
        click.option("--model", type=click.Choice(list(MODELS)), help=f"Released DDColor model [default: "
                     f"{DEFAULT_MODEL}; paper-tiny is about 2x faster on a CPU]."),
        click.option("--weights", type=click.Path(path_type=str), help="A checkpoint file or Hugging Face folder "
                     "instead of --model."),
        click.option("--input-size", type=int, default=512, show_default=True, help="Model resolution (a multiple "
                     "of 32); 256 is about 4x faster, with coarser color."),
        click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N or mps."),
        click.option("--precision", type=click.Choice(["fp32", "bf16"]), default="fp32", show_default=True,
                     help="bf16 on CUDA only."),
        click.option("--batch-size", type=int, help="Frames per forward pass [default: from free GPU memory; "
                     "on the CPU one per worker]."),
        click.option("--workers", type=int, help="Copies of the network running at once on the CPU, sharing the "
                     "cores [default: 2 up to 7 cores, then one per 4 cores, at most 4]."),
        click.option("--parity", is_flag=True, help="Exactly the official DDColor pixels (nearest-neighbour "
                     "chroma upsampling)."),
        click.option("--lab-on-device/--lab-on-cpu", default=None, help="Make the Lab conversions, the resize to "
                     "the model's size and the chroma upsampling in torch on the GPU, or in OpenCV on the CPU "
                     "[default: on the GPU with CUDA, except with --parity]."),
        click.option("--smooth-on-device/--smooth-on-cpu", default=None, help="Blend the smoothing over time in "
                     "torch on the GPU, or in OpenCV on the CPU; its optical flow is on the CPU either way "
                     "[default: on the GPU with CUDA]."),
        click.option("--channels-last/--no-channels-last", default=None, help="Run the network in channels-last "
                     "memory layout [default: on the CPU and with bf16 on CUDA, where it is faster; never with "
                     "--parity]."),
    ],
    "Output": [
        click.option("--preset", metavar="|".join(PRESETS), help="Output recipe: " + "; ".join(
            f"{p.name}: {p.summary}" for p in PRESETS.values()) + " [default: web]."),
        click.option("--codec", help="Video encoder instead of the preset's [web and preview: h264_nvenc where the GPU has "
                     "NVENC, else libx264; libvpx-vp9 for .webm]."),
        click.option("--crf", type=int, help="Constant rate factor (quality) instead of the preset's [web: 18; "
                     "preview: 28]."),
        click.option("--pix-fmt", help="Output pixel format instead of the preset's [web: yuv420p; 4:4:4 where a "
                     "side is odd]."),
        click.option("--encoder-preset", help="The encoder's own speed preset, e.g. slow, medium, veryfast (x264)."),
        click.option("--audio", default="auto", show_default=True, metavar="auto|copy|ENCODER",
                     help="auto: copy each audio stream where the output's container holds it, else re-encode it "
                     "(losslessly where the container has a lossless codec: FLAC in .mkv, ALAC in .mov and .mp4); "
                     "copy: never re-encode (what cannot be held is left out); or an encoder (flac, alac, aac, "
                     "libopus, ...) for every audio stream."),
        click.option("--overwrite", is_flag=True, help="Replace an existing output."),
    ],
    "Time": [
        click.option("--start", help=f"Colorize from this time ({_TIME})."),
        click.option("--duration", help=f"Colorize this long ({_TIME.split(',')[0]})."),
    ],
    "Color": [
        click.option("--references", "reference_dirs", multiple=True, type=click.Path(path_type=str), metavar="DIR",
                     help="Color keyframes the film must follow, named by frame number (000240.png, as "
                     "vidcolor keyframes writes them) or timecode (00-00-10-00.png); RGBA ones are partial (their "
                     "opaque pixels count). Each shot follows its keyframes, along the motion and by the model's "
                     "own consistency."),
        click.option("--reference", "reference_files", multiple=True, metavar="FILE@TIME",
                     help="One keyframe, of the frame at TIME (as --start takes it); for a still, FILE alone."),
        click.option("--hints", type=click.Path(path_type=str), metavar="FILE.json",
                     help='Color points and strokes: [{"frame": 240 (or "time": "1:02.5"), "x": 512, "y": 300, '
                     '"color": "#2f5a2a", "radius": 6}, ...] (a stroke: "points": [[x, y], ...]); they spread '
                     "over their frame along its lightness, and the shot follows as it follows a keyframe."),
        click.option("--skip-color", is_flag=True, help="Leave the shots that are already in color as they are "
                     "(a chroma test per shot; toned or tinted black-and-white counts as black-and-white) and "
                     "colorize the rest [default: colorize every frame]."),
    ],
    "Smoothing": [
        click.option("--smooth-strength", type=click.FloatRange(0, 1), help="Smooth the color over time along "
                     "the motion, 0 (off) to 1 [default: 0.5; off with --parity]. Films only."),
        click.option("--no-smooth", is_flag=True, help="Each frame's color as the model gives it (same as "
                     "--smooth-strength 0)."),
    ],
    "Input": [
        click.option("--deinterlace", type=click.Choice(list(INTERLACE_MODES)), default="auto", show_default=True,
                     help="Deinterlace (bwdif) before colorizing, or undo a 3:2 pulldown (ivtc: fieldmatch, "
                     "decimate): auto detects interlaced sources by their flags and a combing test, and telecined "
                     "film by its repeated fields."),
        click.option("--fps", type=float, help="Frame rate of an image sequence (a folder of frames, or a pattern "
                     "such as scans/%06d.dpx) [default: 24]."),
    ],
    "Run": [
        click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary."),
    ],
}


def _colorize_options(only=None, **extra):
    """Apply the colorizing options (the groups named in ``only``, or all), with ``extra`` options
    (group title -> options) put first in their groups."""
    def apply(command):
        titles = [t for t in _COLORIZE_GROUPS if only is None or t in only or t in extra]
        titles += [t for t in extra if t not in _COLORIZE_GROUPS]
        for title in reversed(titles):
            own = _COLORIZE_GROUPS.get(title, []) if only is None or title in only else []
            command = cloup.option_group(title, *extra.get(title, []), *own)(command)
        return command
    return apply


def _strength(no_smooth: bool, smooth_strength: float | None) -> float | None:
    if no_smooth:
        if smooth_strength:
            raise click.UsageError("--no-smooth and --smooth-strength contradict each other")
        return 0.0
    return smooth_strength


class SegmentSeconds(click.ParamType):
    name = "auto|SECONDS"

    def convert(self, value, param, ctx):
        if value == "auto" or isinstance(value, float):
            return value
        try:
            seconds = float(value)
        except ValueError:
            self.fail(f"{value}: auto, or a number of seconds", param, ctx)
        return seconds  # its range is RunOptions' to check


@main.command(short_help="Colorize a film, a still, a folder of stills, or an image sequence.")
@click.argument("input", type=click.Path(path_type=str))
@_colorize_options(
    Output=[click.option("-o", "--output", required=True, type=click.Path(path_type=str),
                         help="Output file (or folder, for a folder of stills).")],
    Input=[click.option("--recursive", is_flag=True, help="A folder of stills: its subfolders' images too, mirrored "
                        "in the output folder.")],
    Run=[click.option("--report", type=click.Path(path_type=str), help="Write temporal-quality metrics (E_warp, "
                      "CDC, colorfulness; unsmoothed and smoothed), scene cuts and weak-flow frames to this JSON "
                      "file."),
         click.option("--segment-seconds", type=SegmentSeconds(), default="auto", show_default=True,
                      help="A film is colorized in segments, each kept (in a hidden folder beside the output) as it "
                      "is done: the same command after an interruption resumes from the last one. auto: about a "
                      "minute of work each, at the pace measured on the first (never under 2 s of film); or "
                      "seconds of film."),
         click.option("--fresh", is_flag=True, help="Discard the finished segments of an interrupted run and "
                      "start again.")])
def colorize(input, output, quiet, no_smooth, smooth_strength, reference_dirs, reference_files, **options):
    """Colorize a film, a still image, a folder of stills, or an image sequence.

    \b
      vidcolor film.mp4 -o film_color.mp4
      vidcolor film.mkv -o part.mkv --start 1:30 --duration 20
      vidcolor film.mp4 -o fast.mp4 --model paper-tiny --input-size 256   (on a CPU about 9x faster)
      vidcolor reel/%06d.dpx -o reel.mov --fps 24 --preset master

    An image sequence (a pattern such as scans/%06d.dpx, or a folder written to a video file)
    is colorized as one film, smoothed over time, at --fps frames per second.
    """
    from .pipeline import colorize_path

    summary = colorize_path(input, output, quiet=quiet, on_progress=_tell if quiet else None,
                            smooth_strength=_strength(no_smooth, smooth_strength),
                            references=(*reference_dirs, *reference_files) or None, **options)
    if not quiet:
        copied = f"; copied {', '.join(summary.streams_copied)}" if summary.streams_copied else ""
        resumed = f" ({summary.resumed} made by the interrupted run)" if summary.resumed else ""
        click.echo(f"wrote {summary.output}: {summary.frames} frame(s){resumed} in {summary.seconds:.1f} s "
                   f"({summary.fps:.2f}/s), model {summary.model} on {summary.device}{copied}", err=True)
        if summary.frames_kept:
            click.echo(f"{summary.frames_kept} frame(s) of shots already in color left as they were", err=True)
        if summary.smooth_strength:
            click.echo(f"color smoothed over time (strength {summary.smooth_strength:g}); "
                       f"{len(summary.scene_cuts)} scene cut(s)", err=True)
        if summary.needs_reference:
            from .media.timeline import clock

            runs = summary.needs_reference
            shown = ", ".join(f"{clock(a)}-{clock(b)}" for a, b in runs[:SHOWN_RUNS])
            more = f" and {len(runs) - SHOWN_RUNS} more" if len(runs) > SHOWN_RUNS else ""
            click.echo(f"the references hold less than half of the picture in {shown}{more}: a keyframe there "
                       "would help (vidcolor keyframes --start ... writes one)", err=True)
        if summary.report:
            click.echo(f"report: {summary.report}", err=True)


SHOWN_RUNS = 5  # stretches that need a reference, named after a run


@main.command(short_help="Colorize whole folders into a folder, resumably; one bad file never stops the rest.")
@click.argument("sources", nargs=-1, type=click.Path(path_type=str))
@_colorize_options(Output=[
    click.option("-o", "--output", type=click.Path(path_type=str), help="Output folder; the inputs' folders are "
                 "mirrored in it.")], Run=[
    click.option("--status", "status_of", type=click.Path(path_type=str), metavar="OUT_DIR",
                 help="Show where the batch in OUT_DIR stands, and do nothing else."),
    click.option("--jobs", type=int, help="Items (or segments of a film) at once [default: one per GPU where "
                 "there are several, else 1]."),
    click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
                 help="Run on worker processes here, or on a Ray cluster (pip install 'vidcolor[ray]')."),
    click.option("--address", help="Ray cluster address [default: a local Ray instance; 'auto' joins a running "
                 "one]."),
    click.option("--retry-failed", is_flag=True, help="Try the items that failed in an earlier run again."),
    click.option("--segment-seconds", type=float, default=60.0, show_default=True,
                 help="Cut films into segments this long; a rerun resumes from the last finished one."),
    click.option("--report", type=click.Path(path_type=str), help="Write every item's state, time and error to "
                 "this JSON file.")])
def batch(sources, output, status_of, quiet, no_smooth, smooth_strength, reference_dirs, reference_files, **options):
    """Colorize every video and still in SOURCES (files, folders, glob patterns) into a folder.

    \b
    Resumable: a manifest in OUT_DIR/.vidcolor records every item; run the same command again to
    skip what is done, redo what changed, and continue a film from its last finished segment.
    One bad file never stops the batch; the exit code is 1 when any item failed.
      vidcolor batch archive/ -o restored/ --jobs 2
      vidcolor batch --status restored/
    """
    from .batch import batch_status, run_batch

    if status_of is not None:
        if sources or output:
            raise click.UsageError("--status only reads a batch; give it the output folder alone")
        click.echo("\n".join(status_lines(batch_status(status_of))))
        return
    if not output:
        raise click.UsageError("give the output folder with -o OUT_DIR")
    if reference_dirs or reference_files or options.pop("hints", None):
        raise click.UsageError("references and hints are per film: a batch takes them from beside each film, "
                               "as NAME.refs/ (keyframes) and NAME.hints.json")
    try:
        summary = run_batch(list(sources), output, quiet=quiet, smooth_strength=_strength(no_smooth, smooth_strength),
                            **options)
    except KeyboardInterrupt as e:
        _fail(f"{getattr(e, 'reason', 'interrupted')}; run the same command again to resume",
              getattr(e, "exit_code", EXIT_INTERRUPTED))
    if not quiet:
        click.echo("\n".join(item_lines(summary.items)))
    for item in summary.items:
        for n in item.notes:
            click.echo(f"vidcolor: {n}", err=True)
        for w in item.warnings:
            click.echo(f"vidcolor: warning: {w}", err=True)
        if item.error and not item.skipped:
            click.echo(f"vidcolor: error: {item.error}", err=True)
    skipped = sum(i.skipped and i.state == 'done' for i in summary.items)
    retry = " (add --retry-failed to the same command to try them again)" if summary.failed else ""
    click.echo(f"{summary.count('done')} done ({skipped} already), {summary.failed} failed{retry}, "
               f"{summary.count('pending')} not reached, in {summary.seconds:.1f} s on {summary.engine}", err=True)
    if summary.failed:
        sys.exit(1)


@main.command("eval", short_help="Measure how steady the color of a colorized film is over time.")
@click.argument("input", type=click.Path(path_type=str))
@click.argument("colorized", type=click.Path(path_type=str))
@click.option("--reference", type=click.Path(path_type=str), help="The true colors, for the ab error.")
@click.option("--report", type=click.Path(path_type=str), help="Also write the metrics to this JSON file.")
@click.option("--overwrite", is_flag=True, help="Replace an existing report.")
@click.option("--start", help=f"COLORIZED is the part of INPUT from this time ({_TIME}): give it the --start it "
              "was made with.")
@click.option("--duration", help="COLORIZED is the part of INPUT this long: give it the --duration it was made with.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def evaluate(input, colorized, reference, report, overwrite, start, duration, quiet):
    """Temporal quality of COLORIZED, a colorized version of the video INPUT (or of its part
    from --start, --duration long).

    Flow is computed on INPUT's lightness; prints E_warp, CDC and colorfulness (and the ab error
    to --reference), the scene cuts and the frames where the flow was not trusted.
    """
    from .evaluate import evaluate_video

    result = evaluate_video(input, colorized, reference=reference, report=report, overwrite=overwrite,
                            start=start, duration=duration, quiet=quiet)
    m = result["metrics"]["colorized"]
    click.echo(f"frames: {result['frames']}")
    for key in ("e_warp", "cdc", "colorfulness", "ab_error"):
        if m.get(key) is not None:
            click.echo(f"{key}: {m[key]:.6g}")
    click.echo(f"scene cuts: {len(result['scene_cuts'])} {[c['time'] for c in result['scene_cuts']]}")
    click.echo(f"frames with weak flow: {len(result['untrusted_frames'])}")


@main.command(short_help="Write one colorized keyframe per shot, to correct and give back with --references.")
@click.argument("input", type=click.Path(path_type=str))
@_colorize_options(only=("Model", "Time", "Run"),
                   Output=[click.option("-o", "--output", required=True, type=click.Path(path_type=str),
                                        help="Folder for the keyframes (PNG, named by frame number)."),
                           click.option("--overwrite", is_flag=True, help="Replace the keyframes in the folder.")],
                   Time=[click.option("--every", type=float, help="Also one every this many seconds within a "
                                      "long shot [default: one per shot].")])
def keyframes(input, output, quiet, every, **options):
    """Write a keyframe of each shot of INPUT (its sharpest among its first frames), colorized by
    the model, into a folder. Correct any of them in an image editor (paint only what you know on
    a transparent layer, for a partial one), then colorize with --references on that folder: the
    keyframes left as they were count for nothing.

    \b
      vidcolor keyframes film.mp4 -o refs/
      vidcolor film.mp4 -o film_color.mp4 --references refs/
    """
    from .keyframes import export_keyframes

    result = export_keyframes(input, output, every=every, quiet=quiet, **options)
    if not quiet:
        click.echo(f"wrote {len(result.frames)} keyframe(s) of {result.shots} shot(s) into {result.folder}", err=True)


@main.command(short_help="A local web app to queue, watch, preview, compare and download runs.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; another than this machine's own (127.0.0.1) opens it to the network.")
@click.option("--port", type=int, default=8765, show_default=True, help="0: any free port.")
@click.option("--root", "roots", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A folder whose films may be added by path (repeatable) [default: the current folder].")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=Path("vidcolor-output"),
              show_default=True, help="Where results go, a folder per job; the queue is kept there too.")
@click.option("--token", help="The token every request needs [default: a new random one each start].")
@click.option("--max-upload", default="50G", show_default=True, help="Largest upload (500M, 20G, ...).")
@click.option("--jobs", "concurrent", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Jobs running at once.")
@click.option("--api-list", is_flag=True, help="Serve GET /api, a list of the API's routes.")
def serve(host, port, roots, output, token, max_upload, concurrent, api_list):
    """Start a local web app: add films from the --root folders (or upload them), watch the queue
    with its progress, preview a frame with given settings, compare before and after, download
    the results. It prints one URL with a token: open it. The queue is kept in --output and
    resumes when the server starts again.

    \b
      vidcolor serve --root ~/films
      vidcolor serve --host 0.0.0.0 --root /archive    reachable from other machines
    """
    import secrets

    from .web.config import ServeConfig
    from .web.security import is_loopback
    from .web.serve import parse_size, serve as run_server

    if token is not None and len(token) < 16:
        raise VidcolorError("--token must be at least 16 characters (it is the only lock on the server)")
    config = ServeConfig(roots=tuple(r.resolve() for r in roots) or (Path.cwd().resolve(),),
                         output=output.absolute(), token=token or secrets.token_urlsafe(24), host=host, port=port,
                         max_upload=parse_size(max_upload), concurrent=concurrent, docs=api_list)
    if not is_loopback(host):
        click.echo(f"vidcolor: warning: listening on {host}: anyone who can reach this machine and holds the token "
                   "can read the --root folders and run jobs; keep the URL to yourself", err=True)
    with options_spelled(str):  # a request names its options as the API does
        run_server(config, on_ready=lambda url: click.echo(f"vidcolor: serving at {url}", err=False))


@main.group(short_help="List and download the released DDColor weights.")
def weights():
    """List and download the released DDColor weights."""


@weights.command("list", short_help="Show every known model: whether its weights are here, where, their size.")
def weights_list():
    """Show every known model, whether its weights are here, where, and their size."""
    from .models.weights import find_weights, search_dirs

    rows = [("MODEL", "FILE", "SIZE", "WHERE")]
    for m in MODELS.values():
        path = find_weights(m)
        size = f"{path.stat().st_size / 1e6:.0f} MB" if path else "-"
        rows.append((m.name, m.filename, size, str(path) if path else "missing"))
    click.echo("\n".join(table(rows)))
    click.echo("\nsearched, in order: " + ", ".join(str(d) for d in search_dirs()))


@weights.command("download", short_help="Download released weights into the user cache, checksum-verified.")
@click.argument("names", nargs=-1, required=True, type=click.Choice([*MODELS, "all"]))
@click.option("-q", "--quiet", is_flag=True)
def weights_download(names, quiet):
    """Download released weights into the user cache (verified against the Hub's checksum)."""
    from .models.weights import download_weights, find_weights
    from .console import for_run

    for name in MODELS if "all" in names else names:
        model = MODELS[name]
        path = find_weights(model) or download_weights(model, progress=for_run(quiet))
        click.echo(f"{name}: {path}")


if __name__ == "__main__":
    main()


# The API's option names as this command line spells them: one table, from the commands' own flags.
FLAGS = {p.name: next((o for o in p.opts if o.startswith("--")), p.opts[0])
         for command in (colorize, batch, keyframes, evaluate) for p in command.params if isinstance(p, click.Option)}
FLAGS.update(references="--references", reference="--reference")


def flag_of(name: str) -> str:
    return FLAGS.get(name, name)
