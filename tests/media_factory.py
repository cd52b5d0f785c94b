"""Real test media, written with PyAV: moving gray pictures, a sine-tone audio track."""
from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np


def moving_gray(width: int, height: int, index: int) -> np.ndarray:
    """A gray frame with a gradient, a bright square moving right and a dark disc moving down."""
    y, x = np.mgrid[0:height, 0:width]
    img = 60 + 120 * x / max(1, width - 1) + 30 * np.sin(y / 5.0)
    s = max(4, height // 4)
    x0 = (3 * index) % max(1, width - s)
    img[height // 4: height // 4 + s, x0: x0 + s] = 235
    cy, r = (2 * index) % height, max(3, height // 8)
    img[(x - width * 0.7) ** 2 + (y - cy) ** 2 < r * r] = 25
    return np.clip(img, 0, 255).astype(np.uint8)


def write_video(path: Path, *, width=96, height=64, frames=24, fps=24, pts=None, time_base=None,
                audio=True, audio_rate=44100, audio_codec="aac", codec="libx264", pix_fmt="yuv420p", sar=None,
                rotation=0, audio_tracks=1, audio_start=0.0, subtitles=(), attachments=(),
                container_options=None, metadata=None) -> Path:
    """Write a gray test video; ``pts`` (in ``time_base``) makes it variable frame rate.
    ``audio_start``: seconds the audio begins after 0. ``subtitles``: subtitle encoders, one stream
    each (``CUES``; ``dvdsub``: DVD bitmaps); ``attachments``: (name, mimetype, bytes)."""
    with av.open(str(path), "w", options=container_options or {}) as out:
        out.metadata.update(metadata or {})
        v = out.add_stream(codec, rate=fps)
        v.width, v.height, v.pix_fmt = width, height, pix_fmt
        if time_base is not None:
            v.time_base = v.codec_context.time_base = time_base
        if sar is not None:
            v.codec_context.sample_aspect_ratio = sar
        if rotation:
            v.set_display_rotation(rotation)
        tb = v.codec_context.time_base or Fraction(1, fps)
        tracks = []
        for i in range(audio_tracks if audio else 0):
            a = out.add_stream(audio_codec, rate=audio_rate)
            a.layout = "stereo" if i == 0 else "mono"
            if audio_codec == "wmav2":
                a.bit_rate = 128_000  # it has no default
            tracks.append((a, 440.0 * (i + 1)))
        texts = [_subtitle_stream(out, encoder) for encoder in subtitles]
        for name, mimetype, data in attachments:
            out.add_attachment(name, mimetype, data)
        times = pts if pts is not None else [round(i / (fps * tb)) for i in range(frames)]
        for i, p in enumerate(times):
            gray = moving_gray(width, height, i)
            frame = av.VideoFrame.from_ndarray(np.repeat(gray[:, :, None], 3, axis=2), format="rgb24")
            frame = frame.reformat(format=pix_fmt)
            frame.pts, frame.time_base = p, tb
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
        seconds = float(times[-1] * tb) + float(tb) if len(times) else 0
        for a, freq in tracks:
            _write_tone(out, a, freq, seconds, audio_start)
        for stream in texts:
            _write_cues(out, stream)
    return path


# Each subtitle stream's cues: (start, duration) in milliseconds, and the text.
CUES = [(100, 250, "first line"), (400, 250, "second, with a comma"), (700, 200, "third")]


def _subtitle_stream(out, encoder: str):
    s = out.add_stream(encoder)
    s.codec_context.time_base = Fraction(1, 1000)
    if encoder != "dvdsub":
        header = av.Codec("subrip", "r").create()
        header.open()
        s.codec_context.subtitle_header = header.subtitle_header
    s.metadata["language"] = "fra"
    return s


def _write_cues(out, stream) -> None:
    from av.subtitles.subtitle import SubtitleSet

    for i, (start, duration, text) in enumerate(CUES):
        if stream.codec_context.name == "dvdsub":
            packet = av.Packet(dvd_subpicture(8 + 8 * i, 40, 32, 6, 1 + i, duration))
        else:
            packet = stream.codec_context.encode_subtitle(
                SubtitleSet.create(f"{i},0,Default,,0,0,0,,{text}".encode(), 0, duration, start))
        packet.stream, packet.time_base = stream, Fraction(1, 1000)
        packet.pts = packet.dts = start
        packet.duration = duration
        out.mux(packet)


def dvd_subpicture(x: int, y: int, width: int, height: int, color: int, duration_ms: int) -> bytes:
    """One DVD subtitle packet (a subpicture unit): a ``width`` x ``height`` box at (x, y) in
    palette entry ``color`` (1-3), shown at once and for ``duration_ms``.

    Its layout: its size, the offset of its commands, the run-length coded rows (even rows,
    then odd: the two fields), then two command sequences: palette, contrast, area, where the
    rows are, start; and after the delay, stop.
    """
    fill = b"\x00" + bytes([color])  # one run to the end of the row (a zero count), in ``color``
    even, odd = fill * ((height + 1) // 2), fill * (height // 2)
    commands = 4 + len(even) + len(odd)
    right, bottom = x + width - 1, y + height - 1
    area = bytes([x >> 4, (x & 15) << 4 | right >> 8, right & 255, y >> 4, (y & 15) << 4 | bottom >> 8, bottom & 255])
    show = b"\x03\x32\x10" + b"\x04\xff\xf0" + b"\x05" + area + b"\x06" + struct.pack(">HH", 4, 4 + len(even)) + b"\x01\xff"
    stop_at = commands + 4 + len(show)
    body = even + odd + struct.pack(">HH", 0, stop_at) + show
    body += struct.pack(">HH", round(duration_ms * 90 / 1024), stop_at) + b"\x02\xff"  # delay in 1024/90000 s
    return struct.pack(">HH", 4 + len(body), commands) + body


def bitmap_cues(path: Path) -> list[list[tuple[int, int, tuple[int, int, int, int]]]]:
    """Per bitmap subtitle stream: each cue's start and duration (ms) and its box (x, y, w, h)."""
    with av.open(str(path)) as c:
        found = []
        for s in c.streams.subtitles:
            cues = []
            for p in c.demux(s):
                decoded = s.codec_context.decode2(p) if p.size else None
                for rect in decoded.rects if decoded else ():
                    cues.append((round(1000 * p.pts * p.time_base), round(1000 * p.duration * p.time_base),
                                 (rect.x, rect.y, rect.width, rect.height)))
            found.append(cues)
        return found


def subtitle_cues(path: Path) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """Per subtitle stream: its codec, and each cue's start and duration (ms) and text."""
    with av.open(str(path)) as c:
        streams = list(c.streams.subtitles)
        cues = {s.index: [] for s in streams}
        for p in c.demux(streams):
            decoded = p.stream.codec_context.decode2(p) if p.size else None
            for rect in decoded.rects if decoded else ():
                text = rect.ass.decode().split(",", 8)[-1]
                cues[p.stream.index].append((round(1000 * p.pts * p.time_base),
                                             round(1000 * p.duration * p.time_base), text))
        return [(s.codec_context.name, cues[s.index]) for s in streams]


def _write_tone(out, stream, freq: float, seconds: float, start_s: float = 0.0) -> None:
    rate, n = stream.rate, 1024
    offset = round(start_s * rate)
    channels = stream.layout.nb_channels
    total = int(seconds * rate)
    for start in range(0, total, n):
        t = (np.arange(start, min(total, start + n)) / rate).astype(np.float32)
        tone = (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(np.tile(tone, (channels, 1)), format="fltp",
                                           layout=stream.layout.name)
        frame.sample_rate, frame.pts = rate, start + offset
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def frame_times(path: Path) -> list[Fraction]:
    with av.open(str(path)) as c:
        return [f.pts * f.time_base for f in c.decode(c.streams.video[0])]


def relative_ms(times: list[Fraction]) -> list[int]:
    """Frame times from the first, in whole milliseconds: how to compare with a Matroska file
    (its clock counts milliseconds, and it shifts every stream by the AAC priming, offsets kept)."""
    return [round(1000 * float(t - times[0])) for t in times]


def timecodes(path: Path) -> list[str | None]:
    """Each stream's timecode tag (MOV's tmcd track is a stream of its own)."""
    with av.open(str(path)) as c:
        return [{k.lower(): v for k, v in s.metadata.items()}.get("timecode") for s in c.streams]


def decoded_rgb(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])]


def packets(path: Path, kind: str = "audio") -> list[list[tuple[bytes, Fraction, Fraction]]]:
    """Per stream of ``kind``: every packet's bytes, pts and dts in seconds."""
    with av.open(str(path)) as c:
        streams = [s for s in c.streams if s.type == kind]
        out = {s.index: [] for s in streams}
        for p in c.demux(streams):
            if p.size:
                out[p.stream.index].append((bytes(p), p.pts * p.time_base, p.dts * p.time_base))
        return [out[s.index] for s in streams]


def color_texture(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A colored picture with structure at every scale: smooth color fields and fine texture."""
    rng = np.random.default_rng(seed)
    layers = []
    for scale in (4, 16, 64):
        small = rng.uniform(0, 255, (max(2, height // scale), max(2, width // scale), 3)).astype(np.float32)
        layers.append(cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC))
    img = 0.5 * layers[0] + 0.3 * layers[1] + 0.2 * layers[2]
    return np.clip(img, 0, 255).astype(np.uint8)


def translate(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """``img`` moved by (dx, dy) pixels (sub-pixel, bilinear; borders replicated)."""
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)


def write_frames(path: Path, frames, fps: int = 24, codec: str = "libx264rgb", pix_fmt: str = "rgb24",
                 options: dict | None = None) -> Path:
    """Write uint8 RGB frames as they are (lossless by default)."""
    frames = list(frames)
    with av.open(str(path), "w") as out:
        v = out.add_stream(codec, rate=fps, options=options if options is not None else {"crf": "0"})
        v.height, v.width = frames[0].shape[:2]
        v.pix_fmt = pix_fmt
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts = i
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
    return path
