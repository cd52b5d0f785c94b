"""Write an output container's header, packets and trailer, with one-line errors."""
from __future__ import annotations

from pathlib import Path

import av

from ..errors import write_failure


def start(out: av.container.OutputContainer, path: Path) -> None:
    try:
        out.start_encoding()
    except (av.error.FFmpegError, ValueError) as e:
        raise write_failure(path, e, "cannot start writing") from None


def mux(out: av.container.OutputContainer, packets, path: Path) -> None:
    try:
        out.mux(packets)
    except av.error.FFmpegError as e:
        raise write_failure(path, e) from None


def finish(out: av.container.OutputContainer, path: Path) -> None:
    try:
        out.close()
    except av.error.FFmpegError as e:
        raise write_failure(path, e, "could not finish the file") from None
