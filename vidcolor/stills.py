"""Colorize stills: one image, or every image of a folder (the official DDColor pixels, bit for
bit, where nothing asks for more: a reference, hints)."""
from __future__ import annotations

import time
from fractions import Fraction
from pathlib import Path

from .console import for_run
from .errors import OptionError, VidcolorError, option
from .media.atomic import check_output_path
from .media.image_meta import read_meta
from .media.images import IMAGE_EXTENSIONS, is_image_path, read_image, write_image
from .models import Colorizer
from .models.advice import speed_advice
from .options import MODEL_OPTIONS, RunOptions
from .progress import KeepingNotices, Listener
from .provenance import record, sha256_file
from .run.colorizer import load_colorizer, net_settings
from .summary import Summary
from .temporal.color_shots import COLOR_SCORE, chroma_score
from .temporal.hints import read_hints
from .temporal.reference_files import KeyframeFiles, check_references, identity
from .temporal.references import ChromaGuide


def colorize_image(src, dst, *, colorizer: Colorizer | None = None, skip_color: bool = False,
                   overwrite: bool = False, quiet: bool = False, on_progress: Listener | None = None,
                   reference=None, hints=None, **model_options) -> Summary:
    """Colorize one still image; an alpha channel is kept where the output format holds one.
    ``skip_color``: a still already in color is written as it is. ``reference``: a color version
    of it (a file, RGBA for a partial one) whose colors it takes, as a film's keyframe does;
    ``hints``: a JSON file of color points and strokes on it."""
    return _colorize_stills([(Path(src), Path(dst))], colorizer, still_options(model_options, skip_color), overwrite,
                            KeepingNotices(for_run(quiet, on_progress)), reference, hints)


def colorize_folder(src, dst, *, colorizer: Colorizer | None = None, skip_color: bool = False,
                    recursive: bool = False, overwrite: bool = False, quiet: bool = False,
                    on_progress: Listener | None = None, **model_options) -> Summary:
    """Colorize every still in the folder ``src`` into the folder ``dst``, under the same names
    (``recursive``: in its subfolders too, mirrored in ``dst``); with ``skip_color``, those
    already in color are written as they are. What is left out is named in a warning."""
    src, dst = Path(src), Path(dst)
    options = still_options(model_options, skip_color)
    progress = KeepingNotices(for_run(quiet, on_progress))
    if not src.is_dir():
        raise VidcolorError(f"{src}: no such folder")
    inside = dst.resolve()  # an output folder inside the input is not input
    found = sorted(p for p in (src.rglob("*") if recursive else src.iterdir())
                   if not p.name.startswith(".") and inside not in (p.resolve(), *p.resolve().parents))
    images = [p for p in found if p.is_file() and is_image_path(p)]
    if not images:
        raise VidcolorError(f"{src}: no images in this folder (looked for {', '.join(sorted(IMAGE_EXTENSIONS)[:6])}, ...)"
                            + ("" if recursive else f"; {option('recursive')} looks in its subfolders too"))
    skipped = [p.relative_to(src).as_posix() for p in found if p.is_file() and not is_image_path(p)] + \
        ([] if recursive else [p.name + "/" for p in found if p.is_dir()])
    if skipped:
        what = "1 entry that is not an image" if len(skipped) == 1 else f"{len(skipped)} entries that are not images"
        more = ", ..." if len(skipped) > 5 else ""
        hint = "" if recursive else f" ({option('recursive')} colorizes subfolders' images too)"
        progress.note(f"{src}: skipped {what}: {', '.join(skipped[:5])}{more}{hint}", lost=True)
    if dst.exists() and not dst.is_dir():
        raise VidcolorError(f"{dst}: exists and is not a folder")
    pairs = [(p, dst / p.relative_to(src)) for p in images]
    for _, out in pairs:
        out.parent.mkdir(parents=True, exist_ok=True)
    return _colorize_stills(pairs, colorizer, options, overwrite, progress)


def still_options(model_options: dict, skip_color: bool = False) -> RunOptions:
    """A still's options: the model's, and ``skip_color``."""
    for name in model_options:
        if name not in MODEL_OPTIONS:
            raise OptionError.of(name, "is not an option of a still")
    return RunOptions.from_mapping(model_options, skip_color=skip_color)


def _colorize_stills(pairs, colorizer, options: RunOptions, overwrite, progress: KeepingNotices,
                     reference=None, hints=None) -> Summary:
    skip_color = options.color.skip_color
    for src, dst in pairs:
        check_output_path(src, dst, overwrite)
        if not src.is_file():
            raise VidcolorError(f"{src}: no such file")
    if reference is not None and hints is not None:
        raise VidcolorError(f"{hints}: a still takes a reference or hints, not both")
    if reference is not None:
        reference = Path(reference)
        check_references({0: reference}, read_image(pairs[0][0])[0].shape[:2])
    if hints is not None:
        reference = read_hints(hints, Fraction(1), 1, read_image(pairs[0][0])[0].shape[:2], still=True)[0]
    t0 = time.perf_counter()
    net = load_colorizer(options.model, colorizer, progress)
    in_color = {src for src, _ in pairs if skip_color and chroma_score(read_image(src)[0][..., ::-1]) >= COLOR_SCORE}
    deep = not net.parity  # 16-bit scans stay 16-bit; parity reads 8 bits, as the official code does
    alphas = {}

    def frames():
        for src, _ in pairs:
            bgr, alphas[src] = read_image(src, deep)
            if src not in in_color:
                yield bgr

    # BGR all the way, as cv2.imread gives it: the official pipeline, bit for bit.
    results = _colorized(net, frames(), reference)
    task = progress.task("images", pairs[0][0].parent.name, len(pairs), unit="image",
                         advice=speed_advice(net)) if len(pairs) > 1 else None
    for src, dst in pairs:
        bgr, alpha = read_image(src, deep) if src in in_color else (next(results), alphas.pop(src))
        made = record(src, net.model_name, net.weights_path,
                      {**net_settings(net), "skip_color": skip_color, "kept_as_it_was": src in in_color,
                       "reference": identity({0: reference})[0] if isinstance(reference, Path) else None,
                       "hints": sha256_file(Path(hints))[:16] if hints is not None else None})
        for lost in write_image(dst, bgr, alpha, made, read_meta(src)):
            progress.note(f"{dst}: {src.name} loses {lost}", lost=True)
        if task is not None:
            task.advance()
    if task is not None:
        task.end()
    return Summary(output=str(pairs[0][1].parent if len(pairs) > 1 else pairs[0][1]), frames=len(pairs),
                   seconds=time.perf_counter() - t0, model=net.model_name, device=str(net.device),
                   frames_kept=len(in_color), notes=progress.notices.notes, warnings=progress.notices.warnings)


def _colorized(net: Colorizer, frames, reference):
    """BGR stills colorized (as the official pipeline, bit for bit); with a ``reference`` (a file, or
    a list of hints), guided by it."""
    if reference is None:
        yield from net.colorize_stream(frames, order="bgr")
        return
    for bgr in frames:
        L, ab = net.predict([bgr], order="bgr")
        guided = ChromaGuide(KeyframeFiles({0: reference})).push(L[0], ab[0], 0)[0].ab
        yield net.finish(L[0], guided, "bgr", bgr.dtype)


def still_reference(specs) -> Path:
    """The one reference file a still takes."""
    specs = [str(s) for s in specs]
    if len(specs) != 1 or "@" in specs[0] or Path(specs[0]).is_dir():
        raise OptionError("references", f"a still takes one reference, as {option('reference')} FILE (got "
                                        f"{', '.join(specs)})")
    return Path(specs[0])
