"""Join separately encoded segments of one film into the output, without re-encoding them.

Each segment is the colorized video alone, in a QuickTime-family file (it keeps the stream's
time base and every packet's decode time exactly). Joining copies their packets in order and
muxes the input's audio and subtitle streams in step, as an uninterrupted run does.
"""
from __future__ import annotations

import io
from pathlib import Path

import av

from ..errors import VidcolorError, first_line
from .decode import look_of
from .encode import carry_over, encoded_look, keep_aspect, stream_metadata
from .muxing import finish, mux, start
from ..provenance import container_tags
from .probe import frame_rate, open_input, video_stream
from .remux import PacketCopier
from .streams import StreamPlan, plan_streams
from .timeline import Span

# In order of preference; both store decode and presentation times exactly, in any time base.
_SEGMENT_FORMATS = (("mov", ".mov"), ("mp4", ".mp4"))


def segment_suffix(encoder: str) -> str | None:
    """The file suffix to hold segments of ``encoder``'s video; None where no such container can."""
    try:
        codec = av.Codec(encoder, "w").canonical_name
    except (av.error.FFmpegError, ValueError):
        return None
    for muxer, suffix in _SEGMENT_FORMATS:
        if codec in av.open(io.BytesIO(), "w", format=muxer).supported_codecs:
            return suffix
    return None


def join_segments(parts: list[Path], tmp: Path, dst: Path, src: Path, span: Span, audio: str = "auto",
                  provenance: dict | None = None) -> StreamPlan:
    """Write ``tmp`` (the final output ``dst``) from the segment files ``parts`` and the input ``src``'s
    other streams (``audio`` as ``streams.plan_streams`` takes it), tagged with ``provenance``;
    returns what became of those streams."""
    if not parts:
        raise VidcolorError(f"{dst}: nothing to join")
    try:
        out = av.open(str(tmp), "w")
    except (av.error.FFmpegError, ValueError) as e:
        raise VidcolorError(f"{dst}: cannot write this kind of file ({first_line(e)})") from None
    with open_input(src) as source:
        video = video_stream(source, src)
        plan = plan_streams(source, video, out.format.name, audio)
        copier = PacketCopier(src, out, span, plan, dst)
        try:
            with av.open(str(parts[0])) as first:
                template = first.streams.video[0]
                stream = out.add_stream_from_template(template)
                stream.time_base = template.time_base
                # The film's rate, not the part's: MOV builds its timecode track from it.
                stream.codec_context.framerate = frame_rate(video) or template.average_rate
                extradata = template.codec_context.extradata
                if video.sample_aspect_ratio:  # the film's: a Matroska segment of FFV1 keeps none
                    stream.codec_context.sample_aspect_ratio = video.sample_aspect_ratio
                    keep_aspect(stream, video.sample_aspect_ratio, out.format.name, dst)
                _tag_look(stream, src, video.index, template.format.name)
            stream.metadata.update(stream_metadata(video, span))
            carry_over(out, source, copier, video, span)
            if provenance:
                out.metadata.update(container_tags(provenance, source.metadata, out.format.name))
            start(out, dst)
            for part in parts:
                _copy_video(part, stream, extradata, out, copier, span, dst)
            copier.mux_until(None)
        except BaseException:
            copier.close()
            try:
                out.close()
            except Exception:
                pass  # the partial file is deleted by the caller
            raise
        copier.close()
        finish(out, dst)
    return plan


def _tag_look(stream, src: Path, index: int, pix_fmt: str) -> None:
    """Tag the joined video with the matrix, range, primaries and transfer its frames were encoded
    with, the source's first frame's as the writer took them: a QuickTime segment keeps only some
    of them, and without them a player guesses (a full-range picture then shows washed out)."""
    with open_input(src) as source:
        frame = next(source.decode(source.streams[index]), None)
    if frame is None:
        return
    look, cc = encoded_look(look_of(frame), pix_fmt), stream.codec_context
    cc.colorspace, cc.color_range = look.colorspace, look.color_range
    cc.color_primaries, cc.color_trc = look.color_primaries, look.color_trc


def _copy_video(part: Path, stream, extradata, out, copier: PacketCopier, span: Span, dst: Path) -> None:
    try:
        with av.open(str(part)) as segment:
            video = segment.streams.video[0]
            # Packets of one stream must share one set of decoder headers (SPS/PPS for H.264).
            if video.codec_context.extradata != extradata:
                raise VidcolorError(f"{dst}: segment {part.name} was encoded with other settings; "
                                    "delete the batch's work folder to start this film again")
            for packet in segment.demux(video):
                if packet.dts is None and packet.pts is None:
                    continue  # demuxer flush packet
                when = (packet.pts if packet.pts is not None else packet.dts) * packet.time_base + span.shift
                packet.stream = stream
                mux(out, packet, dst)
                copier.mux_until(when)
    except av.error.FFmpegError as e:
        raise VidcolorError(f"{dst}: cannot read the segment {part} ({first_line(e)})") from None
