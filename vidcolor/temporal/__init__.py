"""Time: optical flow on the input's lightness, scene cuts, and chroma smoothing along the motion."""
from .motion import MotionTracker, Step
from .smoother import DEFAULT_STRENGTH, ChromaSmoother, Smoothed, smooth_chroma

__all__ = ["DEFAULT_STRENGTH", "ChromaSmoother", "MotionTracker", "Smoothed", "Step", "smooth_chroma"]
