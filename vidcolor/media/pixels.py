"""The encoder's planar Y'CbCr formats, described for a conversion made elsewhere (on the GPU:
``lab_torch.DeviceLab.finish_yuv``), and frames made from their planes.

The numbers are swscale's, as ``VideoFrame.reformat`` uses them: the matrix of the colorspace tag
(BT.601 where it names none swscale knows), limited range unless the tag (or a J format) says
full; the conversion filters subsampled chroma as swscale's bilinear scaler does.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import av
import numpy as np

# AVColorSpace -> (Kr, Kb), as swscale's sws_getCoefficients reads the tag.
_BT601 = (0.299, 0.114)
MATRICES = {1: (0.2126, 0.0722), 4: (0.30, 0.11), 7: (0.212, 0.087), 9: (0.2627, 0.0593), 10: (0.2627, 0.0593)}
FULL_RANGE = 2  # AVCOL_RANGE_JPEG


@dataclass(frozen=True)
class YuvLayout:
    pix_fmt: str
    kr: float
    kb: float
    full_range: bool
    bits: int  # per sample: 8 (uint8 planes) or 10 to 16 (uint16, little-endian)
    sub_x: int  # chroma subsampling across: 1 or 2
    sub_y: int  # and down
    colorspace: int  # the tags the frame carries
    color_range: int

    @property
    def dtype(self):
        return np.uint8 if self.bits == 8 else np.uint16


@functools.lru_cache(maxsize=64)
def yuv_layout(pix_fmt: str, colorspace: int, color_range: int) -> YuvLayout | None:
    """The layout of ``pix_fmt`` with these tags, or None where it is not three planes of Y'CbCr
    (RGB, alpha, packed or semi-planar, big-endian): those are converted by swscale."""
    fmt = av.VideoFormat(pix_fmt)
    comps = fmt.components
    if fmt.is_rgb or not fmt.is_planar or fmt.is_big_endian or len(comps) != 3 \
            or [c.plane for c in comps] != [0, 1, 2] or len({c.bits for c in comps}) != 1:
        return None
    bits = comps[0].bits
    if not (bits == 8 or 10 <= bits <= 16):
        return None
    width, height = 64, 64
    sub_x, sub_y = width // fmt.chroma_width(width), height // fmt.chroma_height(height)
    kr, kb = MATRICES.get(colorspace, _BT601)
    full = color_range == FULL_RANGE or pix_fmt.startswith("yuvj")  # the J formats are full range by name
    return YuvLayout(pix_fmt, kr, kb, full, bits, sub_x, sub_y, colorspace, color_range)


def frame_from_planes(planes: list[np.ndarray], layout: YuvLayout) -> av.VideoFrame:
    """A frame of ``layout``'s format holding ``planes`` (Y, Cb, Cr), copied into its padded lines."""
    height, width = planes[0].shape
    frame = av.VideoFrame(width, height, layout.pix_fmt)
    for plane, data in zip(frame.planes, planes):
        lines = np.frombuffer(plane, layout.dtype).reshape(plane.height, -1)
        lines[:, :plane.width] = data
    frame.colorspace, frame.color_range = layout.colorspace, layout.color_range
    return frame
