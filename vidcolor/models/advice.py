"""What a slow run could choose instead, with the speed-up measured for each choice.

On a CPU the default model (ConvNeXt-L at 512) takes seconds a frame: days for a feature film.
Speed-ups over it on a CPU, the network alone as the pipeline runs it (2 cores of an AMD EPYC,
two replicas, fp32, channels-last; ``python benchmarks/cpu_choices.py --frames 4``, three runs,
the median): ConvNeXt-L at 256, 4.0x (3.7-4.5); ConvNeXt-T (paper-tiny) at 512, 2.2x (1.9-2.4),
and at 256, 9.5x (7.7-11.0). The ratios are the networks' own costs, so they carry to other CPUs
to a first approximation; the time they are applied to is this machine's, measured on the run.
"""
from __future__ import annotations

from collections.abc import Callable

from ..errors import option
from ..progress import Event, duration_text

TINY_SPEEDUP = 2.2  # ConvNeXt-T against ConvNeXt-L at the same input size
HALF_SIZE_SPEEDUP = 4.0  # ConvNeXt-L at 256 against 512: the pixels' 4x


def speed_advice(net) -> Callable[[Event], str] | None:
    """For a run of ``net`` (a Colorizer) on the CPU with ConvNeXt-L: what the estimate adds,
    the faster choices and how long each would take. None where there is nothing to suggest."""
    if net.device.type != "cpu" or net.model.hyperparameters.get("encoder_name") != "convnext-l":
        return None
    size = net.input_size
    smaller = HALF_SIZE_SPEEDUP * (size / 512) ** 2 if size > 256 else None

    def advice(e: Event) -> str:
        left = e.eta or 0.0
        choices = [f"{option('model')} paper-tiny about {duration_text(left / TINY_SPEEDUP)} ({TINY_SPEEDUP:g}x faster)"]
        if smaller:
            choices.append(f"{option('input_size')} 256 about {duration_text(left / smaller)} ({smaller:.1f}x, "
                           "coarser color)")
            choices.append(f"both about {duration_text(left / smaller / TINY_SPEEDUP)}")
        return ("; this is ConvNeXt-L on the CPU, which is slow: " + ", ".join(choices) +
                "; a CUDA GPU is faster still (one H100 runs ConvNeXt-L at 512 at about 80 frames/s)")

    return advice
