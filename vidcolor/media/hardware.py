"""Hardware video encoders: which ones open on this machine, and what a preset encodes with.

NVIDIA's NVENC encodes 1080p H.264 at hundreds of frames a second beside the network, where x264
would take the cores the other stages need (issue 22). PyAV's wheel has ``h264_nvenc``,
``hevc_nvenc`` and ``av1_nvenc``; they open only with an NVIDIA driver and a GPU that has the
encoder (data-centre GPUs such as the H100 and H200 have none), so each is tried once by opening it.
"""
from __future__ import annotations

import functools
from fractions import Fraction

import av

from ..errors import option

# The software encoder a preset names -> its NVENC counterpart.
NVENC = {"libx264": "h264_nvenc", "libx265": "hevc_nvenc", "libsvtav1": "av1_nvenc", "libaom-av1": "av1_nvenc"}
NVENC_CODECS = frozenset(NVENC.values())


@functools.cache
def opens(codec: str) -> bool:
    """Whether ``codec`` opens here: for a hardware encoder, whether the hardware is there."""
    try:
        cc = av.CodecContext.create(codec, "w")
        cc.width, cc.height, cc.pix_fmt, cc.time_base = 256, 256, "yuv420p", Fraction(1, 25)
        cc.open()
        return True
    except (av.error.FFmpegError, ValueError, OSError):
        return False


def nvidia_gpu() -> bool:
    import torch

    return torch.cuda.is_available() and torch.version.cuda is not None


def hardware_encoder(codec: str) -> tuple[str, str | None]:
    """The encoder to use for ``codec`` in a preset that prefers hardware, and a note for the user
    (None: nothing worth saying, as on a machine without an NVIDIA GPU)."""
    nvenc = NVENC.get(codec)
    if nvenc is None:
        return codec, None
    if opens(nvenc):
        return nvenc, f"encoding with {nvenc}, the GPU's hardware encoder ({option('codec')} {codec} for {codec})"
    if nvidia_gpu():
        return codec, f"this GPU has no NVENC hardware encoder that opens (the H100 and H200 have none): " \
                      f"encoding with {codec} on the CPU"
    return codec, None
