"""Copy the input's audio and subtitle packets into the output, byte for byte, interleaved.

A second demuxer on the same file reads only the copied streams, so they can be muxed in step
with the video without buffering the film: after each video frame, every copied packet up to
that time goes out.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av

from .timeline import Span

COPIED_TYPES = ("audio", "subtitle")
# Streams in a file are interleaved within a few seconds of each other.
_INTERLEAVE_SLACK = 10


class PacketCopier:
    def __init__(self, src: Path, out: av.container.OutputContainer, span: Span):
        self.out, self.span = out, span
        self.input = av.open(str(src), metadata_errors="replace")
        self.wanted = [s for s in self.input.streams if s.type in COPIED_TYPES]
        self.pairs: dict[int, av.stream.Stream] = {}
        self.described: list[str] = []
        self.dropped: list[str] = []
        self._packets = None
        self._held = None

    def add_streams(self) -> None:
        """Add an output stream per copyable input stream; say which cannot be carried, and why."""
        supported = self.out.supported_codecs
        for s in self.wanted:
            name = s.codec_context.name
            label = f"#{s.index} {s.type} ({name})"
            if name not in supported:
                self.dropped.append(f"{label}: the {self.out.format.name} container cannot hold {name}")
                continue
            try:
                o = self.out.add_stream_from_template(s)
            except (av.error.FFmpegError, ValueError) as e:
                self.dropped.append(f"{label}: {e}")
                continue
            o.metadata.update(s.metadata)
            o.disposition = s.disposition
            self.pairs[s.index] = o
            self.described.append(label)
        if self.pairs:
            if self.span.start:
                self.input.seek(max(0, int((self.span.start - _INTERLEAVE_SLACK) * av.time_base)), backward=True)
            self._packets = self.input.demux([s for s in self.wanted if s.index in self.pairs])

    def mux_until(self, t: Fraction | None) -> None:
        """Mux every copied packet that starts before ``t`` seconds (input clock); None: all."""
        if self._packets is None:
            return
        while True:
            packet, self._held = (self._held if self._held is not None else next(self._packets, None)), None
            if packet is None:
                self._packets = None
                return
            if packet.dts is None and packet.pts is None:
                continue  # demuxer flush packet
            when = (packet.pts if packet.pts is not None else packet.dts) * packet.time_base
            if t is not None and when > t:
                self._held = packet
                return
            if self.span.end is not None and when >= self.span.end + _INTERLEAVE_SLACK:
                self._packets = None  # well past the part being colorized
                return
            if not self.span.contains(when):
                continue
            shift = self.span.shift_ticks(packet.time_base)
            if shift:
                packet.pts = None if packet.pts is None else packet.pts - shift
                packet.dts = None if packet.dts is None else packet.dts - shift
            packet.stream = self.pairs[packet.stream.index]
            self.out.mux(packet)

    def close(self) -> None:
        self.input.close()
