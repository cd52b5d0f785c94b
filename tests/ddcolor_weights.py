"""Deterministic, realistic DDColor weights for tests, built from spandrel's architecture.

The official random init gives ab values around 1e14 (everything clips); this recipe, after
the one in ../shared/ddcolor/make_weights.py, keeps activations sane so outputs look like
colorization (|ab| mostly < 60) and tests can assert on real color values.
"""
from __future__ import annotations

import torch

CONFIG = dict(encoder_name="convnext-t", decoder_name="MultiScaleColorDecoder", input_size=(256, 256),
              nf=512, num_output_channels=2, last_norm="Spectral", do_normalize=False,
              num_queries=100, num_scales=3, dec_layers=9)
AB_GAIN_KEY = "color_embed.layers.2.weight"


def build_state_dict(seed: int = 7, **overrides) -> dict[str, torch.Tensor]:
    from spandrel_extra_arches.architectures.DDColor import DDColor

    torch.manual_seed(seed)  # DDColor's constructor runs a random test input through the encoder
    model = DDColor(**{**CONFIG, **overrides})
    gen = torch.Generator().manual_seed(seed)
    sd = {}
    for key, value in model.state_dict().items():
        sd[key] = _init(key, value, gen)
    for key in [k for k in sd if k.endswith(".weight_orig")]:
        prefix = key[: -len("weight_orig")]
        w = sd[key].double().reshape(sd[key].shape[0], -1)
        u = torch.randn(w.shape[0], generator=gen, dtype=torch.float64)
        v = None
        for _ in range(30):
            v = torch.nn.functional.normalize(w.T @ u, dim=0)
            u = torch.nn.functional.normalize(w @ v, dim=0)
        sd[prefix + "weight_u"], sd[prefix + "weight_v"] = u.float(), v.float()
    return sd


def _init(key: str, value: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    shape = value.shape
    if key in ("mean", "std") or key.endswith("num_batches_tracked"):
        return value.clone()
    if key.endswith("running_mean"):
        return torch.randn(shape, generator=gen) * 0.1
    if key.endswith("running_var") or key.endswith(".gamma"):
        return 0.5 + torch.rand(shape, generator=gen)
    if key.endswith(("query_feat.weight", "query_embed.weight", "level_embed.weight")):
        return torch.randn(shape, generator=gen)
    if value.ndim == 1:
        if key.endswith("weight"):
            return 0.7 + 0.6 * torch.rand(shape, generator=gen)
        return torch.randn(shape, generator=gen) * 0.05
    fan_in = value[0].numel()
    gain = 100.0 if key.endswith(AB_GAIN_KEY) else 1.0
    return torch.randn(shape, generator=gen) * (gain / fan_in ** 0.5)
