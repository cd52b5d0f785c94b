"""vidcolor: colorize black-and-white film and photographs with DDColor.

Public API::

    from vidcolor import Colorizer, colorize_video, colorize_image
    c = Colorizer(model="modelscope")          # or weights="path/to/ddcolor.pth"
    rgb = c.colorize(gray_frames)              # (N, H, W) or (N, H, W, 3) uint8 -> (N, H, W, 3)
    for rgb in c.colorize_stream(frames): ...  # any iterable of frames, e.g. an editor's decoder
    colorize_video("film.mp4", "film_color.mp4", model="paper-tiny")   # smoothed over time
    options = RunOptions.from_mapping(preset="archive", start="1:30")   # a run's options, checked once
    colorize_video("film.mp4", "film.mkv", options)
    ab = smooth_chroma(L, ab)                  # (N, H, W) L and (N, H, W, 2) ab, Lab float32
    ab = guide_chroma(L, ab, {0: keyframe_rgb})  # the shot follows a color keyframe (RGBA: partial)
    evaluate_video("film.mp4", "film_color.mp4")  # E_warp, CDC, colorfulness, scene cuts
    vidcolor.batch.run_batch(["archive/"], "restored/")  # a resumable batch (local or Ray engine)
"""
from .errors import CheckpointError, VidcolorError, WeightsUnavailableError
from .models import MODELS, Colorizer
from .evaluate import evaluate_video
from .options import RunOptions
from .pipeline import colorize_path, colorize_video
from .stills import colorize_folder, colorize_image
from .summary import Summary
from .temporal import ChromaSmoother, smooth_chroma
from .temporal.references import ChromaGuide, guide_chroma

__version__ = "0.1.0"

__all__ = [
    "ChromaGuide", "ChromaSmoother", "CheckpointError", "Colorizer", "MODELS", "RunOptions", "Summary", "VidcolorError",
    "WeightsUnavailableError", "colorize_folder", "colorize_image", "colorize_path", "colorize_video",
    "evaluate_video", "guide_chroma", "smooth_chroma",
]
