"""Errors that reach the user as one line, with the exit code the CLI gives them."""
import errno
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar

# A full disk, a full quota, or a file size limit: the same to the user.
OUT_OF_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


# How a message names an option: by the API's parameter name, or where the CLI set it, its flag.
_SPELLING: ContextVar[Callable[[str], str]] = ContextVar("vidcolor_option_spelling", default=str)


def option(name: str) -> str:
    """The option ``name`` (the API's parameter name) as the user gave it."""
    return _SPELLING.get()(name)


@contextmanager
def options_spelled(spelling: Callable[[str], str]):
    """Within it, messages name options with ``spelling`` (the CLI: its flags)."""
    token = _SPELLING.set(spelling)
    try:
        yield
    finally:
        _SPELLING.reset(token)


class VidcolorError(Exception):
    """A problem with the user's input, output or environment (not a bug in vidcolor)."""

    exit_code = 1


class OptionError(VidcolorError):
    """An option's value refused; ``name`` is the API's name for it (the CLI shows its flag)."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.option = name

    @classmethod
    def of(cls, name: str, problem: str) -> "OptionError":
        """``name problem``, the option spelled as the user gave it."""
        return cls(name, f"{option(name)} {problem}")


class WeightsUnavailableError(VidcolorError):
    """The weights are not on disk and cannot be downloaded (offline, no such file)."""

    exit_code = 2


class CheckpointError(VidcolorError):
    """A weights file that cannot be read, or is not the expected DDColor network."""


def first_line(e: BaseException, limit: int = 200) -> str:
    """A one-line reason from any exception (OSError and FFmpegError carry a clean strerror)."""
    text = (getattr(e, "strerror", None) or str(e)).strip()
    log = getattr(e, "log", None)  # FFmpeg's last log line says why, where its code does not
    if log and len(log) == 3 and log[2] and log[2].strip() not in text:
        text = f"{text}: {log[2].strip()}"
    return (text.splitlines()[0] if text else type(e).__name__)[:limit]


def write_failure(path, e: BaseException, what: str = "writing failed") -> VidcolorError:
    """The error for a failed write of ``path``; a full disk says so, and what became of the file
    (outputs are written under a temporary name, removed on any error)."""
    if getattr(e, "errno", None) in OUT_OF_SPACE:
        return VidcolorError(f"{path}: the disk is full ({e.strerror}); the partial output was removed")
    return VidcolorError(f"{path}: {what} ({first_line(e)})")


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (exit code 130) or SIGTERM (143); ``kept`` says what work was kept and how to go on."""

    def __init__(self, reason: str = "interrupted", exit_code: int = 130, kept: str | None = None):
        super().__init__(reason)
        self.reason, self.exit_code, self.kept = reason, exit_code, kept

    def __str__(self) -> str:
        return self.reason + (f"; {self.kept}" if self.kept else "")
