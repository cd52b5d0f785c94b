"""How the CPU cores are shared between the network, OpenCV and the codecs.

On the CPU the network is the pace-setter and wants every core; the other stages need about a
tenth as much. Left alone, torch, OpenCV and FFmpeg each start a thread per core and preempt
one another: an OpenMP team that loses one thread waits at its next barrier, so the network
slows far more than the work taken from it. Measured on 2 cores (paper-tiny at 256, 720p):
the network alone with 2 intra-op threads makes 0.85 frames/s in batches of 4 and 1.24 one
frame at a time; two single-threaded replicas, a frame each, 1.44. End to end, smoothed, with
the other stages single-threaded beside them: 0.63-0.67 frames/s before, 1.18-1.26 after.

So on the CPU the network runs as ``workers`` replicas (shared weights) of ``torch_threads``
each, and OpenCV and the encoder get few threads. On a GPU the CPU stages are the ones to keep
up: they work on several frames at once (``color_workers``, ``smooth_workers``), each call on
one OpenCV thread, and the encoder takes FFmpeg's automatic thread count.
"""
from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass

import cv2
import torch

MAX_CPU_WORKERS = 4
_local = threading.local()


def own_stream(device: torch.device):
    """Run the CUDA work of the block on a stream of the calling thread's own: beside the network's
    batches and the other threads' work, not queued behind them on the default stream (a no-op off CUDA)."""
    if device.type != "cuda":
        return contextlib.nullcontext()
    streams = _local.__dict__.setdefault("streams", {})
    if device not in streams:
        streams[device] = torch.cuda.Stream(device)
    return torch.cuda.stream(streams[device])


def shared(t: torch.Tensor) -> torch.Tensor:
    """A tensor made once and read by every thread's stream (a cached constant): finished before
    any of them reads it. Made per call instead, it would be copied up, and wait, each time."""
    if t.device.type == "cuda":
        torch.cuda.current_stream(t.device).synchronize()
    return t


@dataclass(frozen=True)
class ThreadPlan:
    workers: int  # network replicas running at once
    torch_threads: int  # intra-op threads of each replica; 0 = torch's default
    opencv_threads: int  # 0 = OpenCV's default
    encoder_threads: int  # encoder threads; 0 = FFmpeg's automatic choice (decoding costs little)
    color_workers: int = 1  # frames prepared (and finished) at once
    smooth_workers: int = 1  # frames whose flow (and blend) is computed at once


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # what this process may use (containers, taskset)
    except AttributeError:
        return os.cpu_count() or 1


def plan_threads(device: torch.device, workers: int | None = None, cores: int | None = None) -> ThreadPlan:
    """The thread plan for a network on ``device``; ``workers`` overrides the replica count (CPU)."""
    cores = cores or available_cores()
    if device.type != "cpu":
        # The CPU stages must keep up with the GPU: frames side by side, OpenCV single-threaded
        # in each. Smoothing 1080p at 512 on 16 cores (H100 machine): 6.6 frames/s on OpenCV's
        # 16 threads (469 ms CPU per frame: small calls split 16 ways), 35 with 8 frames at once.
        return ThreadPlan(1, 0, 1, 0, color_workers=max(1, cores // 4), smooth_workers=max(1, cores // 2))
    if workers is None:
        # Two replicas beat one with twice the threads (no shared barrier); past 8 cores a guess.
        workers = min(2, cores) if cores < 8 else min(MAX_CPU_WORKERS, cores // 4)
    return ThreadPlan(workers, max(1, cores // workers), 1, max(1, cores // 4))


def apply(plan: ThreadPlan) -> None:
    """Set the process-wide torch and OpenCV thread counts of ``plan`` (the encoder's is set per stream)."""
    if plan.torch_threads:
        torch.set_num_threads(plan.torch_threads)
    if plan.opencv_threads:
        cv2.setNumThreads(plan.opencv_threads)
