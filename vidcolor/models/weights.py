"""Find released weights on disk, or download them from the Hugging Face Hub.

Lookup order: ``$VIDCOLOR_WEIGHTS_DIR``, the project's ``weights/``, then the user cache
(``$XDG_CACHE_HOME/vidcolor``), where downloads go.
"""
from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path
from urllib.parse import urlparse

from ..errors import WeightsUnavailableError, first_line
from ..progress import Progress
from .registry import KnownModel

PROJECT_WEIGHTS = Path(__file__).resolve().parents[2] / "weights"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vidcolor"


def search_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("VIDCOLOR_WEIGHTS_DIR"):
        dirs.append(Path(os.environ["VIDCOLOR_WEIGHTS_DIR"]).expanduser())
    dirs += [PROJECT_WEIGHTS, cache_dir()]
    return dirs


def find_weights(model: KnownModel) -> Path | None:
    for folder in search_dirs():
        candidate = folder / model.filename
        if candidate.is_file():
            return candidate
    return None


def download_weights(model: KnownModel, dest: Path | None = None, progress: bool | Progress = True) -> Path:
    """Download one released file into ``dest`` (the user cache), resumably, and verify it.
    ``progress``: a run's ``Progress`` (the bytes as a "download" task), or whether to show the
    Hub's own bar."""
    dest = Path(dest) if dest else cache_dir()
    _fail_fast_if_offline(model, dest)
    try:
        from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url
        from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

        meta = get_hf_file_metadata(hf_hub_url(model.repo, model.filename))
        (enable_progress_bars if progress else disable_progress_bars)()
        bars = {"tqdm_class": _as_events(progress, f"downloading {model.filename}")} \
            if isinstance(progress, Progress) else {}
        path = Path(hf_hub_download(model.repo, model.filename, local_dir=dest, **bars))
    except Exception as e:
        raise unavailable_error(model, dest, first_line(e, 160)) from None
    _verify(path, expected_sha256=_lfs_sha256(meta.etag), expected_size=meta.size)
    return path


def _as_events(progress: Progress, label: str):
    """A tqdm class for huggingface_hub that draws nothing and counts the bytes in ``progress``."""
    from tqdm.auto import tqdm

    class Counted(tqdm):
        def __init__(self, *args, **kwargs):
            self._task = progress.task("download", label, kwargs.get("total"), unit="B",
                                       initial=kwargs.get("initial") or 0)
            super().__init__(*args, **{**kwargs, "disable": True})

        def update(self, n=1):
            self._task.advance(n)

        def close(self):
            self._task.end()
            super().close()

    return Counted


def _verify(path: Path, expected_sha256: str | None, expected_size: int | None) -> None:
    size = path.stat().st_size
    problem = None
    if expected_size is not None and size != expected_size:
        problem = f"size {size} bytes, expected {expected_size}"
    elif expected_sha256 and sha256_of(path) != expected_sha256:
        problem = "sha256 does not match the Hub's"
    if problem:
        path.unlink(missing_ok=True)
        raise WeightsUnavailableError(f"{path}: download corrupted ({problem}); removed it, try again")


def sha256_of(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _lfs_sha256(etag: str | None) -> str | None:
    # The Hub's ETag of an LFS file is the sha256 of its content (64 hex digits).
    etag = (etag or "").strip('"').removeprefix("W/").strip('"')
    return etag if len(etag) == 64 and all(c in "0123456789abcdef" for c in etag) else None


def _fail_fast_if_offline(model: KnownModel, dest: Path) -> None:
    """huggingface_hub retries a dead network for ~25 s; a user waiting on a film wants to know now."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        raise unavailable_error(model, dest, "HF_HUB_OFFLINE is set")
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return  # the proxy may reach what we cannot; let the real request decide
    endpoint = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    try:
        with socket.create_connection((endpoint.hostname, endpoint.port or 443), timeout=5):
            pass
    except OSError as e:
        raise unavailable_error(model, dest, f"cannot reach {endpoint.hostname}: {e.strerror or e}") from None


def unavailable_error(model: KnownModel, dest: Path, reason: str) -> WeightsUnavailableError:
    return WeightsUnavailableError(
        f"weights for model '{model.name}' are not on this machine and could not be downloaded "
        f"({reason}): fetch {model.url} and put {model.filename} in {PROJECT_WEIGHTS}/ "
        f"(or in $VIDCOLOR_WEIGHTS_DIR, or {dest}/)"
    )
