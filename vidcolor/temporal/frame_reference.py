"""What one frame's colors should be (a reference), made from a keyframe image: what the guide
(``references``) follows and the hints (``hints``) spread into."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .. import lab
from ..errors import VidcolorError

ASPECT_TOLERANCE = 0.02  # a reference may be scaled, not reshaped


@dataclass
class Reference:
    """What one frame's colors should be: Lab ab (h, w, 2) and how much each pixel is meant (h, w)."""

    ab: np.ndarray
    weight: np.ndarray
    # Spread from a few samples (hints): its low weights say "not sure", not "leave alone", so its
    # mapping applies to every pixel of a hinted color.
    sampled: bool = False


def reference_from_image(image: np.ndarray, frame_shape: tuple[int, int], grid: tuple[int, int],
                         name: str = "reference") -> Reference:
    """A keyframe (H', W', 3) uint8 RGB, or a partial one (H', W', 4) RGBA whose opaque pixels are
    the reference, for frames of ``frame_shape`` (H, W), on the chroma's ``grid`` (h, w). Any size
    of the frame's aspect ratio; only its chroma is used."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise VidcolorError(f"{name}: a reference is an 8-bit RGB or RGBA image, not {image.dtype} {image.shape}")
    (H, W), (h, w) = frame_shape, grid
    ih, iw = image.shape[:2]
    if abs(iw / ih - W / H) > ASPECT_TOLERANCE * W / H:
        raise VidcolorError(f"{name}: {iw}x{ih} is not of the film's aspect ratio ({W}x{H}); "
                            "scale it, do not crop it")
    rgb = np.ascontiguousarray(image[..., :3])
    small = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
    ab = lab.split(small)[1]
    if image.shape[2] == 3:
        weight = np.ones((h, w), np.float32)
    else:
        weight = cv2.resize(image[..., 3].astype(np.float32) / 255.0, (w, h), interpolation=cv2.INTER_AREA)
    return Reference(ab.astype(np.float32), weight.astype(np.float32))
