"""Temporal quality of colorized video: E_warp, CDC, colorfulness, and error to true colors."""
from .cdc import CDC
from .colorfulness import colorfulness
from .video import Report, VideoMetrics

__all__ = ["CDC", "Report", "VideoMetrics", "colorfulness"]
