"""What a server is started with: one value, made by the command line (or a test)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PORT = 8765
DEFAULT_MAX_UPLOAD = 50 * 2**30  # bytes; a feature film in a mezzanine codec fits
STATE_FOLDER = ".vidcolor-serve"  # in the output folder: the queue, uploads, previews


@dataclass(frozen=True)
class ServeConfig:
    roots: tuple[Path, ...]  # the folders whose files may be added by path, resolved
    output: Path  # where results go, each job in a folder of its own
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    max_upload: int = DEFAULT_MAX_UPLOAD
    concurrent: int = 1  # jobs running at once (each holds a model, and a GPU where there is one)
    docs: bool = False  # serve /api (a list of the routes) to browse

    @property
    def state(self) -> Path:
        return self.output / STATE_FOLDER
