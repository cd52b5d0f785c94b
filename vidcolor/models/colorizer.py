"""Colorizer: the public, frame-level entry point to a loaded DDColor network."""
from __future__ import annotations

import copy
import itertools
import queue
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from .. import lab
from ..lab_torch import DeviceLab
from ..errors import CheckpointError, OptionError, VidcolorError, option
from ..progress import Progress
from ..stages import batched
from ..threads import ThreadPlan, apply as apply_threads, plan_threads
from .checkpoint import load_ddcolor, parameter_count, read_state_dict
from .registry import DEFAULT_MODEL, known_model
from .weights import cache_dir, download_weights, find_weights, unavailable_error

PRECISIONS = ("fp32", "bf16")
# Rough peak memory of one 512x512 image through ConvNeXt-L DDColor; scaled by S^2. Only a
# starting point: an out-of-memory error halves the batch and retries the same frames.
_GPU_BYTES_PER_IMAGE_512 = {"fp32": 1.2e9, "bf16": 0.7e9}
_MAX_IMAGES_512 = 16


def on_gpu(device: str | None) -> bool:
    """Whether a network asked to run on ``device`` runs on a CUDA GPU (the CPU stages must keep up)."""
    return resolve_device(device or "auto").type == "cuda"


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise VidcolorError(f"unknown device '{device}': use auto, cpu, cuda, cuda:N or mps") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise VidcolorError(f"device '{device}' asked for, but no CUDA GPU is available")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise VidcolorError(f"device '{device}' asked for, but only {torch.cuda.device_count()} GPU(s) exist")
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise VidcolorError("device 'mps' asked for, but MPS is not available")
    elif dev.type not in ("cpu", "cuda", "mps"):
        raise VidcolorError(f"unsupported device '{device}': use auto, cpu, cuda, cuda:N or mps")
    return dev


def check_model_choice(model: str | None, weights) -> None:
    """A named model and a weights file are two answers to one question: refuse both at once."""
    if model is not None and weights is not None:
        model_, weights_ = option("model"), option("weights")
        raise OptionError("weights", f"{model_} {model} and {weights_} {weights} both say which network to use: "
                                     f"give one of them ({weights_} replaces {model_})")


def check_model_settings(input_size: int | None, precision: str | None, batch_size: int | None,
                         workers: int | None) -> list[tuple[str, str]]:
    """(option, problem) for each setting of the network that cannot be."""
    problems = []
    if input_size is not None and (input_size < 32 or input_size % 32):
        problems.append(("input_size", f"{input_size} must be a positive multiple of 32"))
    if precision is not None and precision not in PRECISIONS:
        problems.append(("precision", f"unknown precision '{precision}': use {' or '.join(PRECISIONS)}"))
    if batch_size is not None and batch_size < 1:
        problems.append(("batch_size", f"{batch_size} must be at least 1"))
    if workers is not None and workers < 1:
        problems.append(("workers", f"{workers} must be at least 1"))
    return problems


def resolve_weights(model: str, weights: str | Path | None, download: bool = True,
                    progress: bool | Progress = True) -> Path:
    """The weights file for ``model``: ``weights`` if given, else on disk, else downloaded."""
    if weights is not None:
        return Path(weights)
    known = known_model(model)
    found = find_weights(known)
    if found is not None:
        return found
    if not download:
        raise unavailable_error(known, cache_dir(), "downloads are turned off")
    return download_weights(known, progress=progress)


class Colorizer:
    """Colorize frames with DDColor.

    ``Colorizer(...).colorize(frames)`` takes uint8 RGB ``(N, H, W, 3)`` or gray ``(N, H, W)``
    frames (or one frame without N) and returns uint8 RGB of the same size. Only the color is
    the model's: the frames' own lightness is kept at full resolution.

    On the CPU the network runs as ``workers`` replicas sharing one set of weights, each with a
    share of the cores, and torch's and OpenCV's process-wide thread counts are set to match
    (see ``vidcolor.threads``). Any method may be called from several threads at once.

    ``lab_on_device``: the Lab conversions, the resize to the model's size and the chroma
    upsampling run in torch on the network's device (``vidcolor.lab_torch``) instead of in
    OpenCV on the CPU; by default on a CUDA GPU, except in parity mode, whose pixels are
    OpenCV's. ``channels_last``: the network in channels-last memory layout; by default on the
    CPU (a fifth to a quarter faster there, in fp32) and with bf16 on CUDA (16% faster), except
    in parity mode, whose pixels are the default layout's. ``smooth_on_device``: a video's
    smoothing over time blends in torch on the device (``temporal.smoother_torch``) instead of in
    OpenCV; by default on a CUDA GPU. Its flow is DIS on the CPU either way.
    """

    def __init__(self, model: str | None = None, weights: str | Path | None = None, device: str = "auto",
                 input_size: int = 512, batch_size: int | None = None, precision: str = "fp32",
                 parity: bool = False, workers: int | None = None, download: bool = True,
                 progress: bool | Progress = True, lab_on_device: bool | None = None, channels_last: bool | None = None,
                 smooth_on_device: bool | None = None):
        for name, problem in check_model_settings(input_size, precision, batch_size, workers):
            raise OptionError.of(name, problem)
        check_model_choice(model, weights)
        model = model or DEFAULT_MODEL
        self.device = resolve_device(device)
        self.threads = plan_threads(self.device, workers)
        apply_threads(self.threads)
        if precision == "bf16" and self.device.type != "cuda":
            raise VidcolorError(f"bf16 needs a CUDA device (running on {self.device.type}); use fp32")
        self.input_size = input_size
        self.precision = precision
        self.parity = parity
        self.upsample = lab.PARITY_UPSAMPLE if parity else lab.DEFAULT_UPSAMPLE
        if parity and (lab_on_device or channels_last):
            raise VidcolorError("parity mode gives the official pixels, from OpenCV's Lab conversions and the "
                                "network's default layout: it cannot take lab_on_device or channels_last")
        cuda = self.device.type == "cuda" and not parity
        self.lab_on_device = cuda if lab_on_device is None else lab_on_device
        if channels_last is None:
            channels_last = (cuda and precision == "bf16") or (self.device.type == "cpu" and not parity)
        self.channels_last = channels_last
        self.smooth_on_device = cuda if smooth_on_device is None else smooth_on_device
        self._device_lab = DeviceLab(self.device, input_size, self.upsample) if self.lab_on_device else None
        self.weights_path = resolve_weights(model, weights, download=download, progress=progress)
        self.model_name = model if weights is None else Path(weights).name
        state_dict, config = read_state_dict(self.weights_path)
        net = load_ddcolor(state_dict, self.weights_path, config)
        del state_dict
        if weights is None:
            _check_release(net, model, self.weights_path)
        if parity and self.device.type == "cuda":
            # TF32 changes fp32 results by ~1e-3; the official numbers are true fp32.
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        self.model: torch.nn.Module = net.to(self.device)
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.batch_size = batch_size or self._auto_batch_size()
        # DDColor keeps encoder features in forward hooks, so each replica runs one call at a time.
        self.replicas = _replicas(self.model, self.threads.workers)
        self._idle: queue.SimpleQueue = queue.SimpleQueue()
        for replica in self.replicas:
            self._idle.put(replica)
        self._pool = None if self.threads.workers == 1 else ThreadPoolExecutor(
            self.threads.workers, "vidcolor-model", initializer=_start_worker, initargs=(self.threads,))

    def __repr__(self) -> str:
        return (f"Colorizer(model={self.model_name!r}, device='{self.device}', input_size={self.input_size}, "
                f"batch_size={self.batch_size}, precision='{self.precision}', parity={self.parity}, "
                f"workers={self.threads.workers}, lab_on_device={self.lab_on_device}, "
                f"channels_last={self.channels_last}, smooth_on_device={self.smooth_on_device})")

    # -- frames -------------------------------------------------------------------------
    def colorize(self, frames: np.ndarray, order: str = "rgb") -> np.ndarray:
        """Colorize uint8 frames; see the class docstring. ``order='bgr'`` for OpenCV images."""
        frames = np.asarray(frames)
        if frames.dtype not in (np.uint8, np.uint16):
            raise TypeError(f"frames must be uint8 (or uint16), got {frames.dtype}")
        color = frames.ndim >= 3 and frames.shape[-1] == 3
        single = frames.ndim == (3 if color else 2)
        if frames.ndim not in (2, 3, 4) or (frames.ndim == 4 and not color):
            raise ValueError(f"frames must be (N, H, W, 3), (N, H, W), (H, W, 3) or (H, W); got {frames.shape}")
        if single:
            return self.colorize_batch([frames], order)[0]
        out = np.empty(frames.shape[:3] + (3,), frames.dtype)
        for i, rgb in enumerate(self.colorize_stream(frames, order=order)):
            out[i] = rgb
        return out

    def colorize_stream(self, frames: Iterable[np.ndarray], order: str = "rgb") -> Iterator[np.ndarray]:
        """Yield colorized frames for any iterable of frames, batching internally, in order.

        Frames may differ in size (and depth: a 16-bit frame comes back 16-bit); memory holds a few
        batches at a time.
        """
        prepared = ((self.prepare(frame, order), frame.dtype) for frame in frames)
        for ab, (L, dtype) in self.infer_stream((x, (L, dtype)) for (L, x), dtype in prepared):
            yield self.finish(L, ab, order, dtype)

    def colorize_batch(self, frames: list[np.ndarray], order: str = "rgb") -> list[np.ndarray]:
        """Colorize a list of uint8 frames (any sizes) in one pass through the network."""
        lightness, ab = self.predict(frames, order)
        return [self.finish(L, a, order, f.dtype) for L, a, f in zip(lightness, ab, frames)]

    def predict(self, frames: list[np.ndarray], order: str = "rgb") -> tuple[list[np.ndarray], np.ndarray]:
        """The two halves of ``colorize_batch``, for work in between (such as smoothing over time).

        Returns each frame's full-resolution Lab lightness (H, W) in [0, 100] and the network's
        ab on its own S x S grid, (B, S, S, 2) float32; ``finish`` makes the frames from them.
        """
        lightness, inputs = zip(*(self.prepare(frame, order) for frame in frames))
        return list(lightness), self.infer(np.stack(inputs))

    def prepare(self, frame: np.ndarray, order: str = "rgb") -> tuple[np.ndarray, np.ndarray]:
        """The CPU half of ``predict`` for one frame: its lightness (H, W) and network input (3, S, S)."""
        frame = _as_three_channels(frame)
        done = self._on_device("prepare", frame, order) if frame.dtype == np.uint8 else None
        if done is not None:
            return done
        img = lab.to_float(frame)
        return lab.lightness(img, order), lab.model_input(img, self.input_size, order)

    def infer(self, inputs: np.ndarray) -> np.ndarray:
        """The network half of ``predict``: (B, 3, S, S) inputs -> (B, S, S, 2) float32 ab."""
        return self.predict_ab(inputs).permute(0, 2, 3, 1).float().cpu().numpy()

    def infer_stream(self, items: Iterable[tuple[np.ndarray | None, object]]) -> Iterator[tuple[np.ndarray | None, object]]:
        """``(input, tag)`` pairs -> ``(ab, tag)`` pairs, in order: ``infer`` frame by frame, batched.
        An input of None skips the network: ``(None, tag)`` comes back in its place.

        On the CPU each replica takes its own share of the frames and starts the next as soon as
        it is done, never waiting for the others (``infer`` on one batch has to).
        """
        pool, workers = self._pool, self.threads.workers
        # With replicas, one batch queued behind each running one; without, each batch at once.
        ahead = workers if pool else 0
        pending: deque = deque()
        for chunk in batched(items, max(1, self.batch_size // workers)):
            inputs = [x for x, _ in chunk if x is not None]
            future = None if not inputs else pool.submit(self.infer, np.stack(inputs)) if pool \
                else _done(self.infer, np.stack(inputs))
            pending.append((future, chunk))
            while len(pending) > ahead:
                yield from _in_order(*pending.popleft())
        for future, chunk in pending:
            yield from _in_order(future, chunk)

    def finish(self, L: np.ndarray, ab: np.ndarray, order: str = "rgb", dtype=np.uint8) -> np.ndarray:
        """Full-resolution lightness (H, W) and ab on the model's grid (S, S, 2) -> uint8 frame
        (``dtype`` uint16: a 16-bit one)."""
        done = self._on_device("finish", L, ab, order) if dtype == np.uint8 else None
        if done is not None:
            return done
        return lab.compose(L, lab.upsample_ab(ab, *L.shape, self.upsample), order, dtype)

    def finish_planes(self, L: np.ndarray, ab: np.ndarray, layout) -> list[np.ndarray] | None:
        """As ``finish``, but the planes of ``layout`` (``media.pixels.YuvLayout``: the encoder's
        Y'CbCr format), made on the device; None where the Lab steps run in OpenCV (or the device
        has no room for this frame): ``finish`` then, and the conversion on the CPU."""
        return self._on_device("finish_yuv", L, ab, layout)

    def _on_device(self, step: str, *args):
        """``DeviceLab``'s ``step``, or None to do it in OpenCV: not on the device, or no room there
        for this frame (the network's batches come first; the OpenCV result differs by a level)."""
        if self._device_lab is None:
            return None
        try:
            return getattr(self._device_lab, step)(*args)
        except torch.OutOfMemoryError:
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            return None

    # -- the network --------------------------------------------------------------------
    def predict_ab(self, x: np.ndarray) -> torch.Tensor:
        """(B, 3, S, S) float32 in [0, 1] -> (B, 2, S, S) Lab ab on the device, in sub-batches.

        An out-of-memory error halves the batch size and retries the same frames, so no frame
        is ever dropped or left gray.
        """
        results = []
        start = 0
        while start < len(x):
            n = min(self.batch_size, len(x) - start)
            try:
                results.append(self._forward(x[start:start + n]))
                start += n
            except (torch.OutOfMemoryError, _TooLargeForKernel):
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
                if n == 1:
                    raise VidcolorError(
                        f"out of memory on {self.device} even with one frame at input size "
                        f"{self.input_size}: try a smaller {option('input_size')} or {option('device')} cpu") from None
                self.batch_size = max(1, n // 2)
        return torch.cat(results)

    def _forward(self, x: np.ndarray) -> torch.Tensor:
        """One pass, its frames shared out between the replicas (unless already on one)."""
        if self._pool is None or len(x) == 1 or getattr(_worker, "replica", False):
            return self._forward_replica(x)
        parts = np.array_split(x, min(len(x), self.threads.workers))
        return torch.cat(list(self._pool.map(self._forward_replica, parts)))

    @torch.inference_mode()
    def _forward_replica(self, x: np.ndarray) -> torch.Tensor:
        model = self._idle.get()
        try:
            t = torch.from_numpy(np.ascontiguousarray(x))
            if self.device.type == "cuda":
                t = t.pin_memory()
            t = t.to(self.device, non_blocking=True)
            if self.channels_last:
                t = t.contiguous(memory_format=torch.channels_last)
            if self.precision == "bf16":
                with torch.autocast(device_type=self.device.type, dtype=torch.bfloat16):
                    return model(t).float()
            return model(t)
        except RuntimeError as e:
            if "32-bit index math" in str(e):
                raise _TooLargeForKernel(str(e)) from None
            raise
        finally:
            self._idle.put(model)

    def _auto_batch_size(self) -> int:
        if self.device.type != "cuda":
            # One frame per replica: on the CPU larger batches are slower per frame (cache).
            return self.threads.workers
        free, _ = torch.cuda.mem_get_info(self.device)
        scale = (self.input_size / 512) ** 2
        per_image = _GPU_BYTES_PER_IMAGE_512[self.precision] * scale
        # Some kernels (replicate padding) index with 32 bits: the decoder's widest activation
        # (256 channels at S + 1 squared) must stay under 2^31 elements: 31 images at 512.
        return int(max(1, min(_MAX_IMAGES_512 / scale, 64, 0.7 * free // per_image)))


def _as_three_channels(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return np.repeat(frame[:, :, None], 3, axis=2)
    if frame.ndim == 3 and frame.shape[2] == 3:
        return frame
    raise ValueError(f"a frame must be (H, W, 3) or (H, W); got {frame.shape}")


class _TooLargeForKernel(RuntimeError):
    """A batch whose activations outgrow a kernel's 32-bit indexing: halved, like out of memory."""


_worker = threading.local()


def _in_order(future: Future | None, chunk: list) -> Iterator[tuple[np.ndarray | None, object]]:
    results = iter(future.result() if future is not None else ())
    for x, tag in chunk:
        yield (None if x is None else next(results)), tag


def _done(fn, *args) -> Future:
    """``fn(*args)`` run here and now, as a finished Future."""
    future: Future = Future()
    try:
        future.set_result(fn(*args))
    except BaseException as e:
        future.set_exception(e)
    return future


def _start_worker(plan: ThreadPlan) -> None:
    _worker.replica = True
    apply_threads(plan)


def _replicas(model: torch.nn.Module, n: int) -> list[torch.nn.Module]:
    """``model`` and n - 1 copies of it that share its weights (only the hooks' state is their own)."""
    shared: dict[int, torch.Tensor] = {}

    # Plain tensor attributes too (spectral norm's computed weight, the features DDColor's hook
    # objects hold): they are replaced on each pass, never written in place.
    def share(value, depth: int) -> None:
        if isinstance(value, torch.Tensor):
            shared[id(value)] = value
        elif depth and isinstance(value, (list, tuple)):
            for v in value:
                share(v, depth - 1)
        elif depth and hasattr(value, "__dict__") and not isinstance(value, torch.nn.Module):
            for v in vars(value).values():
                share(v, depth - 1)

    for m in model.modules():
        for v in itertools.chain(m._parameters.values(), m._buffers.values(), vars(m).values()):
            share(v, 2)
    return [model] + [copy.deepcopy(model, dict(shared)) for _ in range(n - 1)]


def _check_release(net: torch.nn.Module, model: str, path: Path) -> None:
    """A file found under a release name must be that release (not, say, a renamed tiny model)."""
    known = known_model(model)
    encoder = net.hyperparameters.get("encoder_name")
    count = parameter_count(net)
    if encoder != known.encoder or count != known.params:
        raise CheckpointError(
            f"{path}: expected the '{model}' release ({known.encoder}, {known.params:,} parameters), "
            f"found {encoder} with {count:,}"
        )
