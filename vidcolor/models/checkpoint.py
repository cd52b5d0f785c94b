"""Read a DDColor checkpoint in any released container and build the network with spandrel.

Checkpoints are untrusted input: pickles are opened with ``weights_only=True`` and the state
dict is loaded strictly, so a wrong file fails here instead of producing garbage colors.
"""
from __future__ import annotations

import json
import pickle
import re
import warnings
from pathlib import Path

import torch

from ..errors import CheckpointError, first_line

# An unused classifier head that the released files may carry; the only keys we drop.
DROPPABLE_KEYS = ("encoder.arch.head_cls.weight", "encoder.arch.head_cls.bias")
# Wrappers used by BasicSR-style trainers (DDColor saves {'params': sd}).
_WRAPPER_KEYS = ("params", "params_ema", "state_dict", "model")
_MIXIN_FILES = ("model.safetensors", "pytorch_model.bin")
# Mixin config.json entries that must agree with what the weights say.
_CONFIG_CHECKED = ("encoder_name", "decoder_name", "num_output_channels", "last_norm",
                   "num_queries", "num_scales", "dec_layers", "nf")


def read_state_dict(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Return (state_dict, mixin_config) from a .pth/.pt/.bin/.safetensors file or mixin folder."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such weights file or folder")
    config: dict = {}
    if path.is_dir():
        config, path = _mixin_parts(path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            raw = load_file(str(path), device="cpu")
        else:
            raw = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        # torch's wording: "Unsupported global: GLOBAL x.y" (to 2.13), "unsupported GLOBAL x.y whose
        # module x is blocked" (2.14).
        forbidden = re.search(r"[Uu]nsupported (?:global: )?GLOBAL (\S+)", str(e))
        if forbidden:
            raise CheckpointError(f"{path}: not a safe checkpoint, refused: the file holds Python objects, not "
                                  f"only tensors ({forbidden[1]}); only plain weights are accepted") from None
        raise CheckpointError(f"{path}: not a readable checkpoint (damaged or not a PyTorch file)") from None
    except Exception as e:  # torch and safetensors raise many types for damaged files
        raise CheckpointError(f"{path}: not a readable checkpoint ({first_line(e)})") from None
    return _unwrap(raw, path), config


def load_ddcolor(state_dict: dict[str, torch.Tensor], source: str | Path, config: dict | None = None):
    """Build spandrel's DDColor from a state dict, strictly; return the eval-mode module."""
    with warnings.catch_warnings():  # importing spandrel-extra-arches scripts CodeFormer's code with torch.jit
        warnings.simplefilter("ignore", FutureWarning)
        from spandrel_extra_arches.architectures.DDColor import DDColorArch

    sd = {k: v for k, v in state_dict.items() if k not in DROPPABLE_KEYS}
    arch = DDColorArch()
    if not arch.detect(sd):
        other = _detect_other(sd)
        what = f"it looks like a {other} model" if other else "its keys match no known network"
        raise CheckpointError(f"{source}: not a DDColor checkpoint ({what})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            descriptor = arch.load(sd)
    except (RuntimeError, ValueError, KeyError) as e:
        raise CheckpointError(f"{source}: DDColor weights do not fit the network ({first_line(e)})") from None
    model = descriptor.model
    if model.num_output_channels != 2:
        raise CheckpointError(
            f"{source}: DDColor with {model.num_output_channels} output channels; vidcolor needs 2 (Lab a, b)"
        )
    _check_config(config or {}, model.hyperparameters, source)
    return model.eval().requires_grad_(False)


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _mixin_parts(folder: Path) -> tuple[dict, Path]:
    config_file = folder / "config.json"
    try:
        config = json.loads(config_file.read_text()) if config_file.exists() else {}
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{config_file}: unreadable config ({first_line(e)})") from None
    for name in _MIXIN_FILES:
        if (folder / name).exists():
            return config, folder / name
    raise CheckpointError(f"{folder}: a weights folder needs {' or '.join(_MIXIN_FILES)}")


def _unwrap(raw, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(raw, dict):
        for key in _WRAPPER_KEYS:
            if isinstance(raw.get(key), dict):
                raw = raw[key]
                break
    if not isinstance(raw, dict) or not raw or not all(isinstance(v, torch.Tensor) for v in raw.values()):
        raise CheckpointError(f"{path}: not a state dict of tensors")
    return raw


def _detect_other(sd) -> str | None:
    try:
        from spandrel import MAIN_REGISTRY

        for support in MAIN_REGISTRY:
            if support.architecture.detect(sd):
                return support.architecture.name
    except Exception:
        pass
    return None


def _check_config(config: dict, hyper: dict, source) -> None:
    for key in _CONFIG_CHECKED:
        if key in config and key in hyper and config[key] != hyper[key]:
            raise CheckpointError(
                f"{source}: config.json says {key}={config[key]!r} but the weights are {key}={hyper[key]!r}"
            )

