"""What each H.264 encoder setting costs and gives on a colorized film at 1080p. Printed numbers.

On a GPU the network outruns x264 (issue 22): this says how fast each x264 speed preset (and NVENC
where it opens) encodes, with the thread count asked for, and what it gives for it at the web
preset's CRF: bytes a frame and PSNR against the frames it was given (Y, and Cb/Cr).

The film is what a colorized black-and-white film looks like to an encoder: the grainy lightness
of the black-and-white sample with the smooth, moving chroma of the color sample.

    python benchmarks/encoder_speed.py                            # 1080p, 48 frames, all cores
    python benchmarks/encoder_speed.py --threads 12 --specs libx264:medium,libx264:veryfast,h264_nvenc:p5
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import natural_ab, sample_frames  # noqa: E402

from vidcolor import VidcolorError, lab  # noqa: E402
from vidcolor.media.encode import EncodeSettings  # noqa: E402
from vidcolor.threads import available_cores  # noqa: E402

SPECS = "libx264:medium,libx264:fast,libx264:faster,libx264:veryfast,libx264:superfast,h264_nvenc:p5,h264_nvenc:p1"


def colorized_film(n: int, width: int, height: int) -> list[np.ndarray]:
    """The black-and-white sample's lightness with the color sample's ab, ``n`` frames of width x height."""
    return [lab.compose(lab.split(gray)[0], ab)
            for gray, ab in zip(sample_frames(n, width, height), natural_ab(n, width, height))]


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    mse = np.mean((a.astype(np.float64) - b) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(peak ** 2 / mse)


def planes(frame: av.VideoFrame) -> list[np.ndarray]:
    return [np.frombuffer(p, np.uint8).reshape(p.height, -1)[:, :p.width] for p in frame.planes]


def encode(frames: list[av.VideoFrame], spec: str, crf: int, threads: int, path: Path):
    """(wall seconds, CPU seconds) of encoding ``frames``; None where the encoder does not open."""
    codec, _, speed = spec.partition(":")
    try:
        settings, _ = EncodeSettings(codec=codec, crf=crf, encoder_preset=speed or None).resolve(
            "mp4", path, frames[0].width, frames[0].height)
    except VidcolorError as e:
        print(f"  {spec:20s} {e}")
        return None
    t0, c0 = time.perf_counter(), time.process_time()
    with av.open(str(path), "w") as out:
        s = out.add_stream(settings.codec, rate=24, options=settings.options())
        s.width, s.height, s.pix_fmt = frames[0].width, frames[0].height, "yuv420p"
        s.codec_context.thread_count = threads
        for i, frame in enumerate(frames):
            frame.pts = i
            out.mux(s.encode(frame))
        out.mux(s.encode(None))
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--width", type=int, default=1920)
    p.add_argument("--height", type=int, default=1080)
    p.add_argument("--frames", type=int, default=48)
    p.add_argument("--crf", type=int, default=18, help="the web preset's")
    p.add_argument("--threads", type=int, default=0, help="encoder threads (0: FFmpeg's choice)")
    p.add_argument("--specs", default=SPECS, help="CODEC[:SPEED],...")
    args = p.parse_args()

    film = colorized_film(args.frames, args.width, args.height)
    frames = [av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p", dst_colorspace=1,
                                                                        dst_color_range=1) for rgb in film]
    given = [planes(f) for f in frames]
    print(f"{args.frames} frames of {args.width}x{args.height} (colorized-film stand-in), CRF {args.crf}, "
          f"{args.threads or 'automatic'} threads, {available_cores()} cores; PyAV {av.__version__}")
    print(f"  {'encoder':20s} {'frames/s':>9} {'CPU ms/frame':>13} {'KiB/frame':>10} {'PSNR Y':>7} {'PSNR CbCr':>9}")
    tmp = Path(tempfile.mkdtemp(prefix="vidcolor-encoders-"))
    for spec in args.specs.split(","):
        path = tmp / "out.mp4"
        timed = encode(frames, spec, args.crf, args.threads, path)
        if timed is None:
            continue
        wall, cpu = timed
        with av.open(str(path)) as c:
            back = [planes(f) for f in c.decode(video=0)]
        assert len(back) == len(given), f"{spec}: {len(back)} frames back of {len(given)}"
        y = np.mean([psnr(b[0], g[0]) for b, g in zip(back, given)])
        cbcr = np.mean([psnr(b[k], g[k]) for b, g in zip(back, given) for k in (1, 2)])
        print(f"  {spec:20s} {args.frames / wall:9.1f} {1000 * cpu / args.frames:13.1f} "
              f"{path.stat().st_size / 1024 / args.frames:10.1f} {y:7.2f} {cbcr:9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
