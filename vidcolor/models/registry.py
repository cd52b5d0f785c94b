"""The released DDColor checkpoints that vidcolor knows by name."""
from __future__ import annotations

from dataclasses import dataclass

# One Hugging Face repo carries all four released files as {'params': state_dict}.
RELEASE_REPO = "piddnad/DDColor-models"


@dataclass(frozen=True)
class KnownModel:
    name: str  # the CLI name
    filename: str  # the file in RELEASE_REPO, and the name looked for in weights folders
    encoder: str  # spandrel's encoder name, checked after loading
    params: int  # parameter count of the released network, checked after loading
    summary: str
    repo: str = RELEASE_REPO

    @property
    def url(self) -> str:
        return f"https://huggingface.co/{self.repo}/resolve/main/{self.filename}"


_LARGE = 227_869_328
_TINY = 55_006_640

MODELS: dict[str, KnownModel] = {
    m.name: m
    for m in (
        KnownModel("modelscope", "ddcolor_modelscope.pth", "convnext-l", _LARGE,
                   "ConvNeXt-L, the ModelScope model: best outside ImageNet (default)"),
        KnownModel("paper", "ddcolor_paper.pth", "convnext-l", _LARGE,
                   "ConvNeXt-L, the model of the ICCV 2023 paper"),
        KnownModel("artistic", "ddcolor_artistic.pth", "convnext-l", _LARGE,
                   "ConvNeXt-L, extra artistic data: fewer red artefacts"),
        KnownModel("paper-tiny", "ddcolor_paper_tiny.pth", "convnext-t", _TINY,
                   "ConvNeXt-T, the paper recipe: about 2x faster on a CPU"),
    )
}

DEFAULT_MODEL = "modelscope"


def known_model(name: str) -> KnownModel:
    from ..errors import VidcolorError, option

    try:
        return MODELS[name]
    except KeyError:
        raise VidcolorError(
            f"unknown model '{name}': choose one of {', '.join(MODELS)} or give {option('weights')} PATH"
        ) from None
