"""Copy the input's other streams into the output, interleaved: audio and subtitle packets byte
for byte, audio re-encoded and text subtitles converted where the container needs another
format, attachments whole.

A second demuxer on the same file reads only the copied streams, so they can be muxed in step
with the video without buffering the film: after each video frame, every copied packet up to
that time goes out. What goes where is decided beforehand (``streams.plan_streams``).
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
from av.subtitles.subtitle import SubtitleSet

from .muxing import mux
from .streams import StreamPlan
from .timeline import Span

# Streams in a file are interleaved within a few seconds of each other.
_INTERLEAVE_SLACK = 10


class PacketCopier:
    def __init__(self, src: Path, out: av.container.OutputContainer, span: Span, plan: StreamPlan, dst: Path):
        self.out, self.span, self.plan, self.dst = out, span, plan, dst
        self.input = av.open(str(src), metadata_errors="replace")
        self.pairs: dict[int, av.stream.Stream] = {}
        self.converters: dict[int, _TextConverter | _AudioEncoder] = {}
        self._packets = None
        self._held = None

    @property
    def described(self) -> list[str]:
        return self.plan.described

    @property
    def dropped(self) -> list[str]:
        return self.plan.dropped

    def add_streams(self) -> None:
        """Add the output streams the plan carries, and its attachments."""
        for c in self.plan.carried:
            s = self.input.streams[c.index]
            if c.convert_to:
                kind = _AudioEncoder if s.type == "audio" else _TextConverter
                converter = self.converters[s.index] = kind(s, self.out, c.convert_to)
                o = converter.stream
            else:
                o = self.out.add_stream_from_template(s)
            o.metadata.update(s.metadata)
            o.disposition = s.disposition
            self.pairs[s.index] = o
        for c in self.plan.attachments:
            s = self.input.streams[c.index]
            self.out.add_attachment(s.name or f"attachment{s.index}", s.mimetype or "application/octet-stream",
                                    bytes(s.data))
        if self.pairs:
            if self.span.start:
                self.input.seek(max(0, int((self.span.start - _INTERLEAVE_SLACK) * av.time_base)), backward=True)
            self._packets = self.input.demux([self.input.streams[i] for i in self.pairs])

    def mux_until(self, t: Fraction | None) -> None:
        """Mux every copied packet that starts before ``t`` seconds (input clock); None: all."""
        if self._packets is None:
            return
        while True:
            packet, self._held = (self._held if self._held is not None else next(self._packets, None)), None
            if packet is None:
                self._end()
                return
            if packet.dts is None and packet.pts is None:
                continue  # demuxer flush packet
            when = (packet.pts if packet.pts is not None else packet.dts) * packet.time_base
            if t is not None and when > t:
                self._held = packet
                return
            if self.span.end is not None and when >= self.span.end + _INTERLEAVE_SLACK:
                self._end()  # well past the part being colorized
                return
            if not self.span.contains(when):
                continue
            shift = self.span.shift_ticks(packet.time_base)
            if shift:
                packet.pts = None if packet.pts is None else packet.pts - shift
                packet.dts = None if packet.dts is None else packet.dts - shift
            index = packet.stream.index
            if index in self.converters:
                packet = self.converters[index].convert(packet)
            else:
                packet.stream = self.pairs[index]
            mux(self.out, packet, self.dst)

    def _end(self) -> None:
        self._packets = None
        for converter in self.converters.values():
            mux(self.out, converter.flush(), self.dst)

    def close(self) -> None:
        self.input.close()


class _AudioEncoder:
    """Decode an audio stream and encode it with another encoder: same rate (where the encoder
    takes it), same channels, every sample at its time. Timestamps count samples from the first
    frame's time, as FFmpeg's own transcoding does (containers such as ASF round them to ms)."""

    def __init__(self, stream: av.audio.stream.AudioStream, out: av.container.OutputContainer, encoder: str):
        self.decoder = stream.codec_context
        rates = av.Codec(encoder, "w").audio_rates
        rate = self.decoder.sample_rate
        if rates and rate not in rates:  # Opus: 48 kHz
            rate = min((r for r in rates if r >= rate), default=max(rates))
        self.stream = out.add_stream(encoder, rate=rate)
        layout = self.decoder.layout
        # A layout of unknown order ("2 channels", from WMA say) is the usual one for its count.
        self.stream.layout = _DEFAULT_LAYOUTS.get(layout.nb_channels, layout) if " channels" in layout.name else layout
        self.stream.format = _sample_format(av.Codec(encoder, "w"), self.decoder.format)
        cc = self.stream.codec_context
        if encoder in _LOSSY_BITRATE:
            cc.bit_rate = _LOSSY_BITRATE[encoder] * layout.nb_channels
        self.resampler = av.AudioResampler(self.stream.format, self.stream.layout, rate)
        self.rate, self.time_base, self.next = rate, Fraction(1, rate), None

    def convert(self, packet: av.Packet) -> list[av.Packet]:
        return [p for frame in self.decoder.decode(packet) for p in self._encode(frame)]

    def flush(self) -> list[av.Packet]:
        return [p for frame in self.decoder.decode(None) for p in self._encode(frame)] + self._encode(None)

    def _encode(self, frame: av.AudioFrame | None) -> list[av.Packet]:
        if frame is not None and self.next is None and frame.pts is not None:
            self.next = round(frame.pts * frame.time_base * self.rate)
        packets = []
        for f in self.resampler.resample(frame):
            f.pts, f.time_base = self.next or 0, self.time_base
            self.next = (self.next or 0) + f.samples
            packets += self.stream.encode(f)
        if frame is None:
            packets += self.stream.encode(None)
        return packets


_DEFAULT_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "4.0", 5: "5.0(side)", 6: "5.1(side)", 7: "6.1", 8: "7.1"}
_LOSSY_BITRATE = {"aac": 128_000, "libopus": 96_000, "mp2": 128_000, "ac3": 128_000, "wmav2": 96_000}  # a channel


def _sample_format(encoder: av.Codec, decoded: av.AudioFormat) -> str:
    """The encoder's sample format that keeps the most of ``decoded``: 32-bit integers (24 bits in
    FLAC and ALAC) for floating-point or deep samples, 16 for 16-bit ones."""
    names = [f.name for f in encoder.audio_formats or ()]
    deep = decoded.name.rstrip("p") in ("flt", "dbl", "s32", "s64")
    wanted = (decoded.name, decoded.packed.name, decoded.planar.name) + (("s32", "s32p", "flt", "fltp") if deep else ())
    return next((n for n in wanted if n in names), names[0] if names else decoded.name)


class _TextConverter:
    """Re-encode a text subtitle stream in another text format: each cue's text and times kept."""

    def __init__(self, stream: av.subtitles.stream.SubtitleStream, out: av.container.OutputContainer,
                 encoder: str):
        self.decoder = stream.codec_context
        self.decoder.open()  # its ASS header (styles) is known once open
        self.stream = out.add_stream(encoder)
        self.stream.codec_context.time_base = stream.time_base
        self.stream.codec_context.subtitle_header = self.decoder.subtitle_header or _default_ass_header()

    def convert(self, packet: av.Packet) -> list[av.Packet]:
        cues = self.decoder.decode2(packet)
        if cues is None:
            return []
        duration = packet.duration or round(Fraction(cues.end_display_time, 1000) / packet.time_base)
        converted = []
        for rect in cues.rects:
            text = getattr(rect, "ass", None)
            if not text:
                continue
            out = self.stream.codec_context.encode_subtitle(SubtitleSet.create(text, 0, duration, packet.pts))
            out.stream, out.time_base = self.stream, packet.time_base
            out.pts = out.dts = packet.pts
            out.duration = duration
            converted.append(out)
        return converted

    def flush(self) -> list[av.Packet]:
        return []


def _default_ass_header() -> bytes:
    """FFmpeg's default ASS header (one plain style), for a stream that came without one."""
    decoder = av.Codec("subrip", "r").create()
    decoder.open()
    return decoder.subtitle_header
