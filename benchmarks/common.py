"""What the benchmarks share: DDColor with random weights, and real black-and-white frames.

The model's speed does not depend on its weights, so the benchmarks build the architecture
with seeded random weights (no download): the paper-tiny architecture (ConvNeXt-T) or the large
one (ConvNeXt-L: modelscope, paper, artistic).
"""
from __future__ import annotations

import warnings
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "samples" / "his_girl_friday_1940.mp4"
COLOR_CLIP = ROOT / "samples" / "stream_of_water.mp4"
ARCHS = {"tiny": "convnext-t", "large": "convnext-l"}

warnings.filterwarnings("ignore", category=FutureWarning)  # torch.jit inside the architecture


def random_weights(arch: str, folder: Path) -> Path:
    from spandrel_extra_arches.architectures.DDColor import DDColor

    torch.manual_seed(0)
    net = DDColor(encoder_name=ARCHS[arch], decoder_name="MultiScaleColorDecoder", input_size=(256, 256),
                  nf=512, num_output_channels=2, last_norm="Spectral", do_normalize=False, num_queries=100,
                  num_scales=3, dec_layers=9)
    path = folder / f"ddcolor_random_{arch}.pth"
    torch.save({"params": net.state_dict()}, path)
    return path


def sample_frames(n: int, width: int, height: int) -> list[np.ndarray]:
    """``n`` RGB frames of the black-and-white sample film at ``width`` x ``height`` (looped if short)."""
    clip = []
    with av.open(str(CLIP)) as c:
        for f in c.decode(video=0):
            clip.append(cv2.resize(f.to_ndarray(format="rgb24"), (width, height), interpolation=cv2.INTER_LINEAR))
            if len(clip) == n:
                break
    # Loop forward then backward, so a longer film has no jump cut at the loop point.
    loop = clip + clip[-2:0:-1]
    return [loop[i % len(loop)] for i in range(n)]


def natural_ab(n: int, width: int, height: int) -> list[np.ndarray]:
    """``n`` frames of natural, moving color at width x height (a model's grid, or a frame's): the
    ab of the color sample (looped forward and back). What a stand-in for a trained network gives: seeded random
    weights give noisy color, which costs an encoder several times more than a film's."""
    from vidcolor import lab

    clip = []
    with av.open(str(COLOR_CLIP)) as c:
        for f in c.decode(video=0):
            rgb = cv2.resize(f.to_ndarray(format="rgb24"), (width, height), interpolation=cv2.INTER_AREA)
            clip.append(lab.split(rgb)[1])
            if len(clip) == n:
                break
    loop = clip + clip[-2:0:-1]
    return [loop[i % len(loop)] for i in range(n)]


def write_film(path: Path, frames: list[np.ndarray], fps: int = 24) -> Path:
    """A gray H.264 film of these frames with a stereo AAC track, as a scanned reel would come."""
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=fps, options={"crf": "16", "preset": "veryfast"})
        v.height, v.width = frames[0].shape[:2]
        v.pix_fmt = "yuv420p"
        a = out.add_stream("aac", rate=48000)
        a.layout = "stereo"
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
        samples = int(len(frames) / fps * 48000)
        for start in range(0, samples, 1024):
            t = np.arange(start, min(samples, start + 1024)) / 48000
            tone = np.tile((0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), (2, 1))
            af = av.AudioFrame.from_ndarray(tone, format="fltp", layout="stereo")
            af.sample_rate, af.pts = 48000, start
            out.mux(a.encode(af))
        out.mux(a.encode(None))
    return path
