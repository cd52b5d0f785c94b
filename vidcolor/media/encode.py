"""Encode colorized frames and mux them with the input's other streams, copied untouched."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..errors import VidcolorError, first_line
from .decode import FrameLook
from .remux import PacketCopier
from .timeline import Span

# Container-level tags that describe the old file, not the new one.
_STALE_METADATA = {"major_brand", "minor_version", "compatible_brands", "encoder"}


@dataclass(frozen=True)
class EncodeSettings:
    codec: str = "libx264"
    crf: int | None = 18
    pix_fmt: str = "yuv420p"
    preset: str | None = None

    def check(self, width: int, height: int) -> None:
        """Refuse what cannot be encoded before a single frame is decoded."""
        try:
            codec = av.Codec(self.codec, "w")
        except (av.error.FFmpegError, ValueError):
            raise VidcolorError(f"unknown video encoder '{self.codec}'") from None
        if codec.type != "video":
            raise VidcolorError(f"'{self.codec}' is not a video encoder")
        formats = {f.name for f in (codec.video_formats or ())}
        if formats and self.pix_fmt not in formats:
            raise VidcolorError(f"encoder {self.codec} cannot write pixel format {self.pix_fmt} "
                                f"(it can: {', '.join(sorted(formats))})")
        sub_w, sub_h = _chroma_subsampling(self.pix_fmt)
        if width % sub_w or height % sub_h:
            raise VidcolorError(f"the frame size {width}x{height} cannot be stored as {self.pix_fmt} "
                                f"(chroma subsampling needs even sides); use --pix-fmt yuv444p")

    def options(self) -> dict[str, str]:
        opts = {}
        if self.crf is not None:
            opts["crf"] = str(self.crf)
        if self.preset:
            opts["preset"] = self.preset
        return opts


def _chroma_subsampling(pix_fmt: str) -> tuple[int, int]:
    fmt = av.VideoFormat(pix_fmt, 16, 16)
    if fmt.is_rgb or len(fmt.components) < 3:
        return 1, 1
    chroma = fmt.components[1]
    return 16 // chroma.width, 16 // chroma.height


class VideoWriter:
    """Writes the output file: the colorized video stream plus the copied streams of the input.

    The header is written on the first frame, when rotation and color tags are known.
    """

    def __init__(self, tmp: Path, dst: Path, src: Path, source: av.container.InputContainer,
                 stream: av.video.stream.VideoStream, settings: EncodeSettings, span: Span):
        self.path, self.src, self.source, self.template = dst, src, source, stream
        self.settings, self.span = settings, span
        self.time_base: Fraction = stream.time_base
        try:
            self.out = av.open(str(tmp), "w")  # the muxer follows the extension, which tmp shares
        except (av.error.FFmpegError, ValueError) as e:
            raise VidcolorError(f"{dst}: cannot write this kind of file ({first_line(e)})") from None
        self.copier = PacketCopier(src, self.out, span)
        self.stream = None
        self.frames = 0

    @property
    def copied(self) -> list[str]:
        return self.copier.described

    @property
    def dropped(self) -> list[str]:
        return self.copier.dropped

    def write(self, rgb: np.ndarray, pts: int, look: FrameLook) -> None:
        if self.stream is None:
            self._start(rgb.shape[1], rgb.shape[0], look)
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame = frame.reformat(format=self.settings.pix_fmt, dst_colorspace=look.colorspace or None,
                               dst_color_range=look.color_range or None)
        frame.pts = pts - self.span.shift_ticks(self.time_base)
        frame.time_base = self.time_base
        self._mux(self.stream.encode(frame))
        self.frames += 1
        self.copier.mux_until(pts * self.time_base)

    def close(self) -> None:
        if self.stream is not None:
            self._mux(self.stream.encode(None))
        self.copier.mux_until(None)
        self.copier.close()
        try:
            self.out.close()
        except av.error.FFmpegError as e:
            raise VidcolorError(f"{self.path}: could not finish the file ({first_line(e)})") from None

    def abort(self) -> None:
        self.copier.close()
        try:
            self.out.close()
        except Exception:
            pass  # the partial file is deleted by the caller

    def _start(self, width: int, height: int, look: FrameLook) -> None:
        t = self.template
        rate = t.average_rate or t.guessed_rate or Fraction(25)
        s = self.out.add_stream(self.settings.codec, rate=rate, options=self.settings.options())
        s.width, s.height, s.pix_fmt = width, height, self.settings.pix_fmt
        s.time_base = self.time_base
        s.codec_context.time_base = self.time_base
        if t.sample_aspect_ratio:
            s.codec_context.sample_aspect_ratio = t.sample_aspect_ratio
        cc = s.codec_context
        cc.colorspace, cc.color_range = look.colorspace, look.color_range
        cc.color_primaries, cc.color_trc = look.color_primaries, look.color_trc
        if look.rotation:
            s.set_display_rotation(look.rotation)
        s.metadata.update({k: v for k, v in t.metadata.items() if k not in ("handler_name", "vendor_id", "encoder")})
        self.stream = s
        self.copier.add_streams()
        self.out.metadata.update({k: v for k, v in self.source.metadata.items() if k not in _STALE_METADATA})
        if self.span.whole:
            try:
                self.out.set_chapters(self.source.chapters())
            except Exception:
                pass  # a container without chapters support: nothing to carry
        try:
            self.out.start_encoding()
        except (av.error.FFmpegError, ValueError) as e:
            raise VidcolorError(f"{self.path}: cannot start writing ({first_line(e)})") from None

    def _mux(self, packets) -> None:
        try:
            self.out.mux(packets)
        except av.error.FFmpegError as e:
            raise VidcolorError(f"{self.path}: writing failed ({first_line(e)})") from None
