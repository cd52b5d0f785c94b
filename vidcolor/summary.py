"""What a run did: returned by the API, printed by the CLI, kept by the batch and the web app."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Summary:
    """What a run did; returned by the API and printed by the CLI."""

    output: str
    frames: int
    seconds: float
    model: str
    device: str
    streams_copied: list[str] = field(default_factory=list)
    streams_dropped: list[str] = field(default_factory=list)
    smooth_strength: float = 0.0
    scene_cuts: list[float] = field(default_factory=list)  # seconds on the output's clock
    frames_kept: int = 0  # frames of shots already in color, left as they were (skip_color)
    report: str | None = None
    resumed: int = 0  # frames of segments an earlier, interrupted run finished
    provenance: dict | None = None  # how the output was made, as its tags say (vidcolor.provenance)
    # With references: [first, last] runs of frames (seconds on the output's clock) whose pixels
    # they hold less than half of: where another keyframe would help.
    needs_reference: list[list[float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was decided, where nothing is lost
    warnings: list[str] = field(default_factory=list)  # what is lost (a stream left out, metadata)

    @property
    def fps(self) -> float:
        """Frames this run made, a second."""
        return (self.frames - self.resumed) / self.seconds if self.seconds > 0 else 0.0
