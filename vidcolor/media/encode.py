"""Encode colorized frames and mux them with the input's other streams (``streams.plan_streams``)."""
from __future__ import annotations

import functools
import io
import tempfile
import warnings
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..errors import VidcolorError, first_line, option
from .aspect import set_stream_aspect
from .decode import FrameLook, has_alpha
from . import hardware
from .muxing import finish, mux, start
from .pixels import YuvLayout, yuv_layout
from .presets import output_preset
from .probe import frame_rate
from .remux import PacketCopier
from .streams import StreamPlan
from .smpte import moved_to
from .timeline import Span
from ..provenance import container_tags

# Container-level tags that describe the old file, not the new one.
_STALE_METADATA = {"major_brand", "minor_version", "compatible_brands", "encoder"}


DEFAULT_CODEC = "libx264"
# The encoder where the user names none, by muxer, where H.264 is not allowed in the container
# or cannot keep exact timestamps there (AVI and ASF store none: read back, H.264 comes a frame late).
# MPEG program streams (.mpg, .vob) are for players that expect MPEG-2 video.
CONTAINER_CODECS = {"webm": "libvpx-vp9", "avi": "mpeg4", "asf": "mpeg4", "mpeg": "mpeg2video", "vob": "mpeg2video"}
# Containers that cannot hold a colorization worth keeping.
UNSUITABLE = {"gif": "GIF holds 256 colors per frame, too few for colorized film; write .mp4, .mkv or .webm"}
# Encoder options that make --crf mean constant quality.
_CRF_EXTRA = {"libvpx-vp9": {"b": "0"}}
# Encoders with a fixed quantiser instead of a CRF: --crf 18 maps to q 2 (of 1-31, lower is better).
_QSCALE_CODECS = {"mpeg4", "mpeg2video", "mpeg1video", "msmpeg4v2", "msmpeg4", "wmv2"}
_LAMBDA_PER_QP = 118  # FFmpeg's FF_QP2LAMBDA
_LOSSLESS_CODECS = {"ffv1", "huffyuv", "ffvhuff", "utvideo", "png", "qtrle", "rawvideo"}
# Containers that store no separate presentation time (or mangle reordered frames): B-frames
# would shift or lose the timestamps there, so the encoder makes none.
_NO_REORDER = {"avi", "asf", "mxf", "mpeg", "mpegts", "vob", "flv"}
# Encoders that count time in frames of one of their standard rates, not in any time base.
_FRAME_CLOCK = {"mpeg1video", "mpeg2video"}
# Where an encoder named by the user cannot write the preset's format: the first it can.
_USUAL_FORMATS = ("yuv420p", "yuv422p", "yuv444p", "rgb24", "gbrp", "bgr24", "rgba", "bgra")
# Encoder options an alpha channel needs: ProRes holds one only in its 4444 profiles.
_ALPHA_OPTIONS = {"prores_ks": {"profile": "4"}}


@dataclass(frozen=True)
class EncodeSettings:
    """What the user asked for; ``resolve`` fills in the rest from the output preset and container."""

    codec: str | None = None  # None: the preset's, else DEFAULT_CODEC or the container's own
    crf: int | None = None  # None: the preset's
    pix_fmt: str | None = None  # None: the preset's (4:4:4 of the same depth where a side is odd)
    preset: str | None = None  # an output preset (presets.PRESETS); None: web
    encoder_preset: str | None = None  # the encoder's own speed preset (x264: slow, veryfast, ...)
    muxer: str | None = None  # the output container, known once resolved
    extra: tuple = ()  # the preset's encoder options, once resolved
    alpha: bool = False  # the output keeps the input's alpha channel, once resolved
    keep_up: bool = False  # the network runs on a GPU, which x264 at its default speed cannot keep up with

    def resolve(self, muxer: str, dst: Path, width: int, height: int,
                alpha: bool = False) -> tuple[EncodeSettings, list[tuple[str, bool]]]:
        """These settings with the defaults filled in for this container and frame size, checked;
        and notes for the user about what was chosen, each with whether something is lost (a
        warning) or not (a note). Runs before a single frame is decoded.
        ``alpha``: the input has an alpha channel, kept where the encoder can store one."""
        if muxer in UNSUITABLE:
            raise VidcolorError(f"{dst}: {UNSUITABLE[muxer]}")
        preset = output_preset(self.preset)
        if preset.muxers and muxer not in preset.muxers:
            raise VidcolorError(f"{dst}: {option('preset')} {preset.name} writes {preset.summary}; "
                                f"name the output *{preset.suffix}")
        notes = []
        codec = self.codec or preset.codec or CONTAINER_CODECS.get(muxer, DEFAULT_CODEC)
        if self.codec is None and preset.hardware:
            codec, note = hardware.hardware_encoder(codec)
            if note:
                notes.append((note, False))
        pix_fmt = self.pix_fmt or preset.pix_fmt_for(width, height)
        if self.pix_fmt is None and pix_fmt != preset.pix_fmt:
            notes.append((f"the frame size {width}x{height} has an odd side, which {preset.pix_fmt} cannot "
                          f"store; writing {pix_fmt} to keep every pixel", False))
        formats = encoder_formats(codec)
        if self.pix_fmt is None and formats and pix_fmt not in formats:
            usual = next((f for f in _USUAL_FORMATS if f in formats), sorted(formats)[0])
            notes.append((f"{codec} cannot write {pix_fmt}; writing {usual}", False))
            pix_fmt = usual
        crf = self.crf if self.crf is not None else preset.crf
        options = dict(preset.encoder_options.get(codec, {}))
        keep_alpha = False
        if alpha:
            pix_fmt, keep_alpha, note = _alpha_format(codec, pix_fmt, explicit=self.pix_fmt is not None)
            notes.append((note, not keep_alpha))
            if keep_alpha and codec in _ALPHA_OPTIONS:
                options.update(_ALPHA_OPTIONS[codec])
        if codec == "libx264" and self.keep_up and preset.keep_up and not self.encoder_preset \
                and "preset" not in options:
            options["preset"] = preset.keep_up
            notes.append((f"x264 at its {preset.keep_up} speed, to keep up with the GPU ({option('encoder_preset')} medium "
                          "for x264's default: slower, smaller)", False))
        extra = tuple(sorted(options.items()))
        settings = replace(self, codec=codec, pix_fmt=pix_fmt, crf=crf, muxer=muxer, extra=extra, alpha=keep_alpha)
        settings.check(width, height)
        try:
            av.open(io.BytesIO(), "w", format=muxer).add_stream(codec)
        except ValueError:
            other = CONTAINER_CODECS.get(muxer, DEFAULT_CODEC)
            hint = f"use {option('codec')} {other}" if other != codec else "choose another output type"
            raise VidcolorError(f"{dst}: a {muxer} file cannot hold {codec} video; {hint}") from None
        settings.try_open(dst, width, height)
        return settings, notes

    def try_open(self, dst: Path, width: int, height: int) -> None:
        """Open the encoder with these settings once, so that what it refuses (an unknown
        --encoder-preset, a hardware encoder with no session free) stops the run before a single
        frame is decoded, not at the first frame written."""
        options = self.options()
        try:
            cc = av.CodecContext.create(self.codec, "w")
            cc.width, cc.height, cc.pix_fmt, cc.time_base = width, height, self.pix_fmt, Fraction(1, 25)
            cc.options = options
            cc.open()
        except (av.error.FFmpegError, ValueError) as e:
            given = ", ".join(f"{k}={v}" for k, v in sorted(options.items()))
            busy = "; another program may hold all of the GPU's encoder sessions" if self.codec in hardware.NVENC_CODECS \
                else ""
            raise VidcolorError(f"{dst}: {self.codec} will not start with {given or 'its defaults'} "
                                f"({first_line(e)}){busy}") from None

    def check(self, width: int, height: int) -> None:
        """Refuse what cannot be encoded before a single frame is decoded."""
        try:
            codec = av.Codec(self.codec, "w")
        except (av.error.FFmpegError, ValueError):
            raise VidcolorError(f"unknown video encoder '{self.codec}'") from None
        if codec.type != "video":
            raise VidcolorError(f"'{self.codec}' is not a video encoder")
        if self.codec in hardware.NVENC_CODECS and not hardware.opens(self.codec):
            raise VidcolorError(f"{self.codec} does not open here: it needs an NVIDIA GPU with an NVENC encoder "
                                f"and its driver; use {option('codec')} libx264")
        formats = encoder_formats(self.codec)
        if formats and self.pix_fmt not in formats:
            raise VidcolorError(f"encoder {self.codec} cannot write pixel format {self.pix_fmt} "
                                f"(it can: {', '.join(sorted(formats))})")
        sub_w, sub_h = _chroma_subsampling(self.pix_fmt)
        if width % sub_w or height % sub_h:
            raise VidcolorError(f"the frame size {width}x{height} cannot be stored as {self.pix_fmt} "
                                f"(chroma subsampling needs even sides); use {option('pix_fmt')} yuv444p")

    def options(self) -> dict[str, str]:
        opts = dict(self.extra)
        if self.crf is not None and self.codec in _LOSSLESS_CODECS:
            pass  # nothing to trade: FFV1 and the like are lossless whatever is asked
        elif self.crf is not None and self.codec in _QSCALE_CODECS:
            q = max(1, min(31, round(self.crf / 8)))
            opts.update({"flags": "+qscale", "global_quality": str(q * _LAMBDA_PER_QP)})
        elif self.crf is not None and self.codec in hardware.NVENC_CODECS:
            opts.update({"rc": "vbr", "cq": str(self.crf), "b": "0"})  # constant quality, no bitrate cap
        elif self.crf is not None:
            opts["crf"] = str(self.crf)
            opts.update(_CRF_EXTRA.get(self.codec, {}))
        if self.muxer in _NO_REORDER:
            opts["bf"] = "0"
        if self.encoder_preset:
            opts["preset"] = self.encoder_preset
        return opts


def _alpha_format(codec: str, pix_fmt: str, explicit: bool) -> tuple[str, bool, str]:
    """(pixel format, alpha kept, a note) for an input with an alpha channel: ``pix_fmt`` with
    alpha added where ``codec`` can store that (unless the user named a format without it)."""
    if has_alpha(pix_fmt):
        return pix_fmt, True, f"the alpha channel (transparency) is kept, in {pix_fmt}"
    formats = encoder_formats(codec)
    candidates = [f for f in _with_alpha(pix_fmt) if f in formats]
    if candidates and not explicit:
        return candidates[0], True, f"the alpha channel (transparency) is kept: writing {candidates[0]}"
    why = f"{option('pix_fmt')} {pix_fmt} has none" if explicit and candidates else f"{codec} cannot store one"
    return pix_fmt, False, (f"the input's alpha channel (transparency) is dropped: {why} "
                            f"({option('preset')} archive keeps it, in FFV1)")


def encoder_formats(codec: str) -> set[str]:
    """The pixel formats ``codec`` can encode; empty where it does not say (or is unknown)."""
    try:
        return {f.name for f in av.Codec(codec, "w").video_formats or ()}
    except (av.error.FFmpegError, ValueError):
        return set()


def _with_alpha(pix_fmt: str) -> list[str]:
    """Formats like ``pix_fmt`` with an alpha channel, closest first."""
    if pix_fmt.startswith("yuv"):
        return ["yuva" + pix_fmt[3:], "yuva444p" + pix_fmt[8:], "yuva444p10le", "yuva420p"]
    if pix_fmt.startswith("gbrp"):
        return ["gbrap" + pix_fmt[4:], "gbrap"]
    return ["rgba", "argb", "bgra", "gbrap"]


def output_muxer(dst: Path) -> str:
    """The muxer FFmpeg picks for ``dst`` by its name, without writing there."""
    with tempfile.TemporaryDirectory() as folder:
        try:
            with av.open(str(Path(folder) / f"probe{dst.suffix}"), "w") as out:
                return out.format.name
        except (av.error.FFmpegError, ValueError) as e:
            raise VidcolorError(f"{dst}: cannot write this kind of file ({first_line(e)})") from None


def _chroma_subsampling(pix_fmt: str) -> tuple[int, int]:
    fmt = av.VideoFormat(pix_fmt, 16, 16)
    if fmt.is_rgb or len(fmt.components) < 3:
        return 1, 1
    chroma = fmt.components[1]
    return 16 // chroma.width, 16 // chroma.height


class VideoWriter:
    """Writes the output file: the colorized video stream plus the copied streams of the input.

    The header is written on the first frame, when rotation and color tags are known. The
    settings come resolved for the output (``EncodeSettings.resolve``: its container, which a
    segment's file need not share). ``plan`` says what becomes of the input's other streams;
    without one it writes the video alone (a segment of a longer film, joined later).
    """

    def __init__(self, tmp: Path, dst: Path, src: Path, source: av.container.InputContainer,
                 stream: av.video.stream.VideoStream, settings: EncodeSettings, span: Span,
                 plan: StreamPlan | None = None, rate: Fraction | None = None):
        assert settings.muxer, "resolve the settings for the output first"
        self.path, self.src, self.source, self.template = dst, src, source, stream
        self.span = span
        self.rate = rate  # frames a second, where it is not the input's (inverse telecine)
        self.time_base: Fraction = stream.time_base
        try:
            self.out = av.open(str(tmp), "w")  # the muxer follows the extension, which tmp shares
        except (av.error.FFmpegError, ValueError) as e:
            raise VidcolorError(f"{dst}: cannot write this kind of file ({first_line(e)})") from None
        self.settings = settings
        self.copier = PacketCopier(src, self.out, span, plan, dst) if plan is not None else None
        self.stream = None
        self.frames = 0
        self.provenance: dict | None = None  # how the output was made, written into its tags
        self._origin = None  # the first frame's time, for an encoder with a frame clock
        self.threads = 0  # encoder threads; 0: FFmpeg's choice

    @property
    def copied(self) -> list[str]:
        return self.copier.described if self.copier else []

    @property
    def dropped(self) -> list[str]:
        return self.copier.dropped if self.copier else []

    def to_frame(self, rgb: np.ndarray, look: FrameLook, alpha: np.ndarray | None = None) -> av.VideoFrame:
        """``rgb`` (and ``alpha``, where the output keeps it) converted to the encoder's pixel format
        and matrix. Any thread may call it, so several frames convert at once (one 1080p frame
        takes milliseconds in swscale)."""
        if self.settings.alpha and alpha is not None:
            frame = av.VideoFrame.from_ndarray(np.dstack([rgb, alpha]), format="rgba")
        else:
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb48le" if rgb.dtype == np.uint16 else "rgb24")
        look = encoded_look(look, self.settings.pix_fmt)
        return frame.reformat(format=self.settings.pix_fmt, dst_colorspace=look.colorspace or None,
                              dst_color_range=look.color_range or None)

    def planar(self, look: FrameLook, alpha: np.ndarray | None = None) -> YuvLayout | None:
        """The encoder's format as planes of Y'CbCr to make elsewhere (on the GPU), with the matrix and
        range ``to_frame`` would convert with; None where ``to_frame`` has to convert (RGB, alpha)."""
        if self.settings.alpha and alpha is not None:
            return None
        look = encoded_look(look, self.settings.pix_fmt)
        return yuv_layout(self.settings.pix_fmt, look.colorspace, look.color_range)

    def write(self, image: np.ndarray | av.VideoFrame, pts: int, look: FrameLook) -> None:
        """Encode the next frame: RGB, or what ``to_frame`` made of it."""
        frame = image if isinstance(image, av.VideoFrame) else self.to_frame(image, look)
        if self.stream is None:
            self._start(frame.width, frame.height, look)
        ticks = pts - self.span.shift_ticks(self.time_base)
        clock = self.stream.codec_context.time_base
        if clock != self.time_base:
            # Count frames from the first one, whose exact time the packets get back (_retime).
            self._origin = ticks if self._origin is None else self._origin
            ticks = round((ticks - self._origin) * self.time_base / clock)
        frame.pts, frame.time_base = ticks, clock
        self._mux(self.stream.encode(frame))
        self.frames += 1
        if self.copier:
            self.copier.mux_until(pts * self.time_base)

    def close(self) -> None:
        if self.stream is not None:
            self._mux(self.stream.encode(None))
        if self.copier:
            self.copier.mux_until(None)
            self.copier.close()
        finish(self.out, self.path)

    def abort(self) -> None:
        if self.copier:
            self.copier.close()
        try:
            self.out.close()
        except Exception:
            pass  # the partial file is deleted by the caller

    def _start(self, width: int, height: int, look: FrameLook) -> None:
        t = self.template
        rate = self.rate or frame_rate(t) or Fraction(25)
        s = self.out.add_stream(self.settings.codec, rate=rate, options=self.settings.options())
        s.width, s.height, s.pix_fmt = width, height, self.settings.pix_fmt
        s.time_base = self.time_base
        # Frames are rebased from the stream's clock to the encoder's as they go in.
        s.codec_context.time_base = 1 / Fraction(rate) if self.settings.codec in _FRAME_CLOCK else self.time_base
        if t.sample_aspect_ratio:
            s.codec_context.sample_aspect_ratio = t.sample_aspect_ratio
            keep_aspect(s, t.sample_aspect_ratio, self.settings.muxer, self.path)
        cc = s.codec_context
        if self.threads:
            cc.thread_count = self.threads
        look = encoded_look(look, self.settings.pix_fmt)
        cc.colorspace, cc.color_range = look.colorspace, look.color_range
        cc.color_primaries, cc.color_trc = look.color_primaries, look.color_trc
        if look.rotation:
            s.set_display_rotation(look.rotation)
        s.metadata.update(stream_metadata(t, self.span, self.rate))
        self.stream = s
        if self.copier:
            carry_over(self.out, self.source, self.copier, t, self.span, self.rate)
        if self.provenance:
            self.out.metadata.update(container_tags(self.provenance, self.source.metadata, self.settings.muxer))
        start(self.out, self.path)

    def _mux(self, packets) -> None:
        if self._origin is not None:
            packets = [self._retime(p) for p in packets]
        mux(self.out, packets, self.path)

    def _retime(self, packet: av.Packet) -> av.Packet:
        """A packet from a frame-clock encoder back on the stream's clock, at the film's own times."""
        def back(t):
            return None if t is None else round(t * packet.time_base / self.time_base) + self._origin
        packet.pts, packet.dts = back(packet.pts), back(packet.dts)
        packet.time_base = self.time_base
        return packet


def keep_aspect(stream, sar: Fraction, muxer: str, path) -> None:
    """The pixel shape on the output's stream too, where the container reads it there (Matroska)."""
    if not set_stream_aspect(stream, sar) and muxer in ("matroska", "webm"):
        warnings.warn(f"{path}: this PyAV build cannot record the pixel shape ({sar.numerator}:{sar.denominator}) "
                      "in Matroska: players will show square pixels; write .mov or .mp4 to keep it", stacklevel=3)


def stream_metadata(video: av.video.stream.VideoStream, span: Span, rate: Fraction | None = None) -> dict[str, str]:
    """The input video stream's tags that still describe the colorized ``span`` of it, written
    at ``rate`` frames a second (None: the input's)."""
    # The muxer writes alpha_mode itself where the output has alpha; copied, it could claim one dropped.
    return moved_to({k: v for k, v in video.metadata.items()
                     if k.lower() not in ("handler_name", "vendor_id", "encoder", "alpha_mode")}, video, span, rate)


def carry_over(out: av.container.OutputContainer, source: av.container.InputContainer, copier: PacketCopier,
               video: av.video.stream.VideoStream, span: Span, rate: Fraction | None = None) -> None:
    """Add the copied streams, the container's metadata and (for the whole film) its chapters;
    the video is written at ``rate`` frames a second (None: the input's)."""
    copier.add_streams()
    out.metadata.update(moved_to({k: v for k, v in source.metadata.items() if k not in _STALE_METADATA},
                                 video, span, rate))
    if span.whole:
        try:
            out.set_chapters(source.chapters())
        except Exception:
            pass  # a container without chapters support: nothing to carry


RGB_MATRIX, BT709 = 0, 1  # AVColorSpace: an RGB source has no YUV matrix; HD's is the one to give it


def encoded_look(look: FrameLook, pix_fmt: str) -> FrameLook:
    """The source's look as the output can carry it: an RGB source (a PNG sequence, x264rgb)
    encoded as YUV gets BT.709's matrix, converted with it and tagged so, not a YUV stream tagged RGB."""
    if look.colorspace == RGB_MATRIX and not _is_rgb(pix_fmt):
        return replace(look, colorspace=BT709)
    return look


@functools.lru_cache(maxsize=None)
def _is_rgb(pix_fmt: str) -> bool:
    return av.VideoFormat(pix_fmt).is_rgb
