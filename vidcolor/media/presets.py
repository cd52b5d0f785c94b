"""Named output recipes: what a web copy, an archive master or a quick preview is encoded as.

``--codec``, ``--crf`` and ``--pix-fmt`` override a preset's choices one by one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import VidcolorError, option


@dataclass(frozen=True)
class OutputPreset:
    name: str
    summary: str
    codec: str | None  # None: the container's usual encoder (H.264; VP9 in WebM, ...)
    pix_fmt: str
    crf: int | None  # None: the encoder has no quality setting (lossless or fixed profile)
    encoder_options: dict[str, dict[str, str]] = field(default_factory=dict)  # by encoder
    muxers: tuple[str, ...] = ()  # the containers it must be written in; () any
    suffix: str = ""  # the file suffix of that container, for the message
    hardware: bool = False  # encode with the GPU's encoder (NVENC) where one opens and none is named
    keep_up: str | None = None  # x264's speed where it encodes beside a network on a GPU (no NVENC)

    def pix_fmt_for(self, width: int, height: int) -> str:
        """Its pixel format, or the 4:4:4 one of the same depth where a side is odd."""
        if (width % 2 or height % 2) and self.pix_fmt.startswith(("yuv420p", "yuv422p")):
            return "yuv444p" + self.pix_fmt[7:]
        return self.pix_fmt


PRESETS = {p.name: p for p in (
    # NVENC's constant-quality mode takes the CRF as its CQ; p5 is its slower, better half.
    OutputPreset("web", "H.264, 8-bit 4:2:0, CRF 18: plays everywhere (NVENC where the GPU has it)", None,
                 "yuv420p", 18, {"h264_nvenc": {"preset": "p5", "tune": "hq"}}, hardware=True, keep_up="veryfast"),
    # FFV1 version 3 with a CRC per slice and every frame a keyframe, as archives (and the
    # IETF's CELLAR specification) recommend: damage stays local and is detected.
    OutputPreset("archive", "FFV1 in Matroska, 10-bit 4:4:4, lossless", "ffv1", "yuv444p10le", None,
                 {"ffv1": {"level": "3", "g": "1", "slicecrc": "1", "slices": "16", "coder": "1", "context": "1"}},
                 ("matroska",), ".mkv"),
    OutputPreset("master", "ProRes 422 HQ in QuickTime, 10-bit: for editing and grading", "prores_ks",
                 "yuv422p10le", None, {"prores_ks": {"profile": "3", "vendor": "apl0"}}, ("mov",), ".mov"),
    OutputPreset("preview", "H.264, fast and small (CRF 28, veryfast): to check a run", None, "yuv420p", 28,
                 {"libx264": {"preset": "veryfast"}, "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8"},
                  "h264_nvenc": {"preset": "p1"}}, hardware=True),
)}
DEFAULT_PRESET = "web"
# x264's speed presets, which --preset named before the output presets existed.
_ENCODER_PRESETS = {"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
                    "veryslow", "placebo"}


def output_preset(name: str | None) -> OutputPreset:
    name = name or DEFAULT_PRESET
    if name in PRESETS:
        return PRESETS[name]
    hint = f"; for the encoder's speed use {option('encoder_preset')} {name}" if name in _ENCODER_PRESETS else ""
    raise VidcolorError(f"unknown preset '{name}': use {', '.join(PRESETS)}{hint}")
