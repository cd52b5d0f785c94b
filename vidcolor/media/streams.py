"""Decide, before anything is decoded, what becomes of each of the input's other streams.

Every stream besides the one colorized is copied byte for byte where the output's container
holds its codec; a text subtitle the container cannot hold is converted to the container's own
text format; attachments (fonts, cover sheets) go where Matroska can keep them. Anything else
is dropped with the reason, so the user hears about it before the run, not after.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import av

from ..errors import VidcolorError, option

# Codecs these muxers carry that FFmpeg does not list for them (they have no codec tag table).
_ALSO_HELD = {
    "mpegts": {"aac", "aac_latm", "ac3", "eac3", "mp2", "mp3", "opus", "dts", "truehd", "pcm_bluray",
               "s302m", "dvb_subtitle", "dvb_teletext", "hdmv_pgs_subtitle", "arib_caption"},
    "mpeg": {"mp2", "mp3", "ac3", "dts", "pcm_dvd", "dvd_subtitle"},
    "vob": {"mp2", "mp3", "ac3", "dts", "pcm_dvd", "dvd_subtitle"},
    "mxf": {"pcm_s16le", "pcm_s24le"},
}
# Text subtitle formats, in the order a conversion prefers them (styles survive in ASS).
_TEXT_TARGETS = ("ass", "subrip", "webvtt", "mov_text")
# Audio a container cannot hold as it is gets re-encoded: losslessly where the container has a
# lossless codec (what the source's decoder gives is kept exactly, to 24 bits), else in a good
# lossy one.
_LOSSLESS_AUDIO = {"matroska": "flac", "mov": "alac", "mp4": "alac", "avi": "pcm_s16le", "mxf": "pcm_s16le"}
_LOSSY_AUDIO = ("aac", "libopus", "mp2", "ac3", "wmav2")
AUDIO_MODES = ("auto", "copy")  # or the name of an audio encoder
_ATTACHMENT_MUXERS = {"matroska"}  # WebM has no attachments


@dataclass(frozen=True)
class Carried:
    """One input stream that goes into the output."""

    index: int
    label: str
    convert_to: str | None = None  # a text subtitle encoder; None: packets copied untouched


@dataclass
class StreamPlan:
    carried: list[Carried] = field(default_factory=list)
    attachments: list[Carried] = field(default_factory=list)
    as_tags: list[str] = field(default_factory=list)  # timecode tracks: the muxer rebuilds them from the tag
    dropped: list[str] = field(default_factory=list)  # "label: why"
    notes: list[str] = field(default_factory=list)  # conversions, said before the run

    @property
    def described(self) -> list[str]:
        return [c.label for c in self.carried + self.attachments] + self.as_tags

    def warnings(self, src, dst) -> list[str]:
        """What the user is told before the run: each stream dropped or converted, and why."""
        return [f"{src}: stream {d}; it will not be in {dst}" for d in self.dropped] + \
            [f"{src}: stream {n}" for n in self.notes]


def label_of(stream: av.stream.Stream) -> str:
    what = stream.codec_context.name if stream.codec_context else (
        getattr(stream, "name", None) or stream.metadata.get("handler_name") or "?")
    language = stream.metadata.get("language")
    kind = "attachment" if stream.type == "attachment" else stream.type
    return f"#{stream.index} {kind} ({what}{', ' + language if language and language != 'und' else ''})"


def plan_streams(source: av.container.InputContainer, video: av.video.stream.VideoStream,
                 muxer: str, audio: str = "auto") -> StreamPlan:
    """What to do with every stream of ``source`` but ``video`` in a ``muxer`` output. ``audio``:
    ``auto`` copies audio where the container holds it and re-encodes it where not, ``copy`` never
    re-encodes (what cannot be held is dropped), an encoder's name re-encodes every audio stream
    with it (a stream already in that codec is copied)."""
    plan = StreamPlan()
    forced = audio_encoder(muxer, audio)
    for s in source.streams:
        if s.index == video.index:
            continue
        label = label_of(s)
        if s.type == "attachment":
            if muxer in _ATTACHMENT_MUXERS and s.data is not None:
                plan.attachments.append(Carried(s.index, label))
            else:
                plan.dropped.append(f"{label}: only Matroska (.mkv) holds attachments, a {muxer} file cannot")
            continue
        if s.type == "video" and not s.disposition & av.stream.Disposition.attached_pic:
            plan.dropped.append(f"{label}: a second video track; only #{video.index} is colorized")
            continue
        if s.codec_context is None:  # a data stream: timecode, or something FFmpeg cannot name
            timecode = s.metadata.get("timecode")
            if timecode and video.metadata.get("timecode") == timecode:
                plan.as_tags.append(f"{label} as the video's timecode {timecode}")
            else:
                plan.dropped.append(f"{label}: a data stream FFmpeg cannot copy into another file")
            continue
        name = s.codec_context.name if s.codec_context else None
        same_codec = forced and av.Codec(forced, "w").canonical_name == s.codec_context.codec.canonical_name
        if s.type == "audio" and forced and not same_codec:
            plan.carried.append(Carried(s.index, label, convert_to=forced))
            plan.notes.append(f"{label}: re-encoded as {forced} ({option('audio')} {audio})")
            continue
        if name and holds(muxer, s):
            plan.carried.append(Carried(s.index, label))
            continue
        target = audio_target(muxer) if s.type == "audio" and audio != "copy" else None
        if target:
            plan.carried.append(Carried(s.index, label, convert_to=target))
            how = "losslessly" if target == _LOSSLESS_AUDIO.get(muxer) else "(lossy)"
            plan.notes.append(f"{label}: a {muxer} file cannot hold {name}; re-encoded {how} as {target}, "
                              f"with its timing and channels ({option('audio')} copy to leave it out instead)")
            continue
        target = text_target(muxer, s)
        if target:
            plan.carried.append(Carried(s.index, label, convert_to=target))
            plan.notes.append(f"{label}: a {muxer} file cannot hold {name}; converted to {target} "
                              "(the text and times are kept, styling may be simplified)")
            continue
        hint = "; .mkv can keep it" if muxer != "matroska" and holds("matroska", s) else ""
        plan.dropped.append(f"{label}: a {muxer} file cannot hold {name or s.type}{hint}")
    return plan


def holds(muxer: str, stream: av.stream.Stream) -> bool:
    """Whether a ``muxer`` file can take ``stream``'s packets as they are."""
    name = stream.codec_context.name
    out = av.open(io.BytesIO(), "w", format=muxer)
    try:
        if name not in out.supported_codecs and name not in _ALSO_HELD.get(muxer, ()):
            return False
        # The muxer's own checks (sample formats, profiles, extradata) run when it writes its header.
        out.add_stream_from_template(stream).disposition = stream.disposition
        out.start_encoding()
        return True
    except (av.error.FFmpegError, ValueError):
        return False
    finally:
        try:
            out.close()
        except (av.error.FFmpegError, ValueError):
            pass


def audio_target(muxer: str) -> str | None:
    """The encoder to re-encode audio with for a ``muxer`` file: lossless where it has one."""
    lossless = _LOSSLESS_AUDIO.get(muxer)
    return next((e for e in ((lossless,) if lossless else ()) + _LOSSY_AUDIO if _takes(muxer, e)), None)


def audio_encoder(muxer: str, mode: str) -> str | None:
    """The encoder ``--audio MODE`` forces on every audio stream (None for ``auto`` and ``copy``);
    refused before the run where it is no audio encoder or the container cannot hold it."""
    if mode in AUDIO_MODES:
        return None
    try:
        codec = av.Codec(mode, "w")
    except (av.error.FFmpegError, ValueError):
        codec = None
    if codec is None or codec.type != "audio":
        raise VidcolorError(f"{option('audio')} {mode}: not an audio encoder FFmpeg has (use auto, copy, or one such as "
                            "flac, alac, aac, libopus, pcm_s24le)")
    if not _takes(muxer, mode):
        raise VidcolorError(f"{option('audio')} {mode}: a {muxer} file cannot hold {codec.name}")
    return mode


def _takes(muxer: str, encoder: str) -> bool:
    try:
        name = av.Codec(encoder, "w").name
    except (av.error.FFmpegError, ValueError):
        return False
    return name in av.open(io.BytesIO(), "w", format=muxer).supported_codecs or name in _ALSO_HELD.get(muxer, ())


def text_target(muxer: str, stream: av.stream.Stream) -> str | None:
    """The text subtitle encoder to convert ``stream`` to for a ``muxer`` file; None where
    ``stream`` is not text (bitmap subtitles cannot be converted) or the muxer holds no text."""
    if stream.type != "subtitle":
        return None
    try:
        if not av.Codec(stream.codec_context.name, "r").text_sub:
            return None
    except (av.error.FFmpegError, ValueError):
        return None
    supported = av.open(io.BytesIO(), "w", format=muxer).supported_codecs
    return next((t for t in _TEXT_TARGETS if t in supported), None)
