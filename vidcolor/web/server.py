"""What every route of the server shares: its configuration, the queue, the scheduler, the
preview worker, the pages listening for events; and the checks and shapes of requests and
answers (a job as the API shows it, an input named by a request, options, files)."""
from __future__ import annotations

import asyncio
import json
import math
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse

from ..batch.sources import is_media_path
from ..errors import VidcolorError
from ..media.images import is_image_path
from ..media.timeline import parse_time
from ..options import MODEL_OPTIONS, NAMES, RunOptions
from ..resume.segments import film_seconds
from .config import ServeConfig
from .frames import Previews
from .paths import under_roots
from .scheduler import Scheduler
from .store import DONE, JobStore, finite
from .work import PICTURE

# What a job's options may hold: the Python API's keywords, less those that name more files (a
# job's references are its own keyframes and color points) or change what a run writes beside
# its output. segment_seconds is the batch's (a job runs as a batch of one).
JOB_OPTIONS = tuple(o for o in NAMES if o not in ("references", "hints", "fresh", "fps"))
MAX_JSON_BYTES = 4 * 2**20  # a request's JSON: options, a film's color points
MAX_SECONDS = 10**7  # a time in a request: past any film (116 days), short of what overflows a clock
# What one job may ask of the machine: the network's size (memory grows with its square) and its
# copies side by side; past these a request is refused, not queued to exhaust the server.
MAX_INPUT_SIZE = 2048
MAX_WORKERS = 16
MAX_BATCH = 256
LISTENER_BACKLOG = 1000  # changes waiting for a page that reads its events slowly
# Served inline (played, shown); anything else is a download. Never HTML or SVG.
INLINE_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm", ".mov": "video/quicktime",
                ".mkv": "video/x-matroska", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                ".webp": "image/webp"}


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


async def read_limited(request: Request, limit: int, what: str) -> bytes:
    """A request's whole body, refused (413) past ``limit`` bytes as it streams in."""
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise ApiError(413, f"{what} is over {limit} bytes")
    return bytes(data)


def parse_json(raw: bytes, what: str = "the request's body"):
    """JSON as RFC 8259 has it: NaN, Infinity and numbers past a float's range refused (they are
    no JSON, and no answer could carry them back), as is nesting deeper than Python recurses."""
    def refuse(text):
        raise ApiError(400, f"{what} holds {text}, which is not a JSON number")

    def number(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            refuse(text)
        return value

    try:
        return json.loads(raw, parse_constant=refuse, parse_float=number)
    except RecursionError:
        raise ApiError(400, f"{what} is nested too deeply") from None
    except ValueError:  # not JSON, not UTF-8, an integer of thousands of digits
        raise ApiError(400, f"{what} is not JSON") from None


def seconds_of(value, name: str) -> float:
    """A time in seconds from a request: a finite number, 0 or more, short of MAX_SECONDS."""
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ApiError(400, f'"{name}" must be a number of seconds') from None
    if not 0 <= seconds <= MAX_SECONDS:  # NaN too
        raise ApiError(400, f'"{name}" must be a number of seconds from 0 to {MAX_SECONDS}')
    return seconds


def model_of(options: dict) -> dict:
    """The options that make the model (a preview's, a job's keyframes')."""
    return {k: v for k, v in options.items() if k in MODEL_OPTIONS}


def part_of(options: dict) -> dict:
    """The part of the film the options ask for."""
    return {k: options[k] for k in ("start", "duration") if k in options}


class Server:
    def __init__(self, config: ServeConfig):
        self.config = config
        self.store = JobStore(config.state)
        self.listeners: set[asyncio.Queue] = set()
        self.loop: asyncio.AbstractEventLoop | None = None  # the server's, once it runs
        self.scheduler = Scheduler(self.store, config.output, config.concurrent, self.notify)
        self.previews = Previews()
        self.preview_folder = config.state / "previews"
        self.uploads_folder = config.state / "uploads"

    def scrub(self, message: str) -> str:
        """A message for the page without the server's own paths: an upload's file named as it was
        uploaded, the rest of the state folder by what it is."""
        uploads = re.escape(str(self.uploads_folder)) + r"/(\w+)/[^\s:;,'\"]*"

        def name(m: re.Match) -> str:
            found = self.store.upload(m[1])
            return found["name"] if found else "an upload"

        return re.sub(uploads, name, message).replace(str(self.config.state), "the server's state folder")

    def notify(self, job: dict) -> None:
        """From any thread: a job changed; tell every page listening."""
        if self.loop is None:
            return
        payload = self.public(job) if "state" in job else job
        for q in list(self.listeners):
            try:
                self.loop.call_soon_threadsafe(_offer, q, payload)
            except RuntimeError:  # the loop has closed: the server is stopping
                return

    def public(self, job: dict) -> dict:
        """A job as the API shows it."""
        out = {k: job[k] for k in ("id", "state", "name", "input", "options", "frames_done", "frames_total",
                                   "fps", "eta_seconds", "error", "output", "created", "started", "finished", "position")}
        out = finite(out)
        out["error"] = self.scrub(out["error"]) if out["error"] else out["error"]
        out["result_url"] = f"/api/jobs/{job['id']}/result" if job["state"] == DONE and job["output"] else None
        out["kind"] = "image" if is_image_path(Path(job["input"])) else "video"
        out["start_seconds"] = self.start_of(job)
        picture = self.scheduler.folder(job["id"]) / PICTURE
        try:
            out["picture_url"] = f"/api/jobs/{job['id']}/picture?v={picture.stat().st_mtime_ns // 10**6}"
        except OSError:
            out["picture_url"] = None
        return out

    @staticmethod
    def start_of(job: dict) -> float:
        """Where the job's part starts in its input, in seconds (0: the whole film)."""
        try:
            return float(parse_time(job["options"].get("start"), "start") or 0)
        except VidcolorError:
            return 0.0

    def job_or_404(self, job_id: str) -> dict:
        job = self.store.get(job_id)
        if job is None:
            raise ApiError(404, f"no job {job_id}")
        return job

    @staticmethod
    async def body(request: Request, kind: type = dict):
        """The request's JSON (an object, or ``kind``), read up to MAX_JSON_BYTES."""
        raw = await read_limited(request, MAX_JSON_BYTES, "the request's body")
        data = parse_json(raw or (b"[]" if kind is list else b"{}"))
        if not isinstance(data, kind):
            raise ApiError(400, f"the request's body must be a JSON {'list' if kind is list else 'object'}")
        return data

    def source_of(self, data: dict) -> tuple[Path, str]:
        """The input a request names: a path under a root, or an upload; with its name to show."""
        if data.get("upload"):
            upload = self.store.upload(str(data["upload"]))
            if upload is None:
                raise ApiError(404, f"no upload {data['upload']}")
            return Path(upload["path"]), upload["name"]
        if not isinstance(data.get("input"), str):
            raise ApiError(400, 'give "input" (a path under a root) or "upload" (an upload\'s id)')
        path = under_roots(data["input"], self.config.roots)
        if not path.is_file() or not is_media_path(path):
            raise ApiError(400, f"{data['input']}: not a video or image file")
        return path, path.name

    def checked_options(self, options, allowed=JOB_OPTIONS) -> dict:
        if options is None:
            return {}
        if not isinstance(options, dict):
            raise ApiError(400, '"options" must be a JSON object')
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise ApiError(400, f"unknown option(s): {', '.join(unknown)} (options are the Python API's keyword "
                                f"names: {', '.join(allowed)})")
        for name, value in options.items():
            if not (value is None or isinstance(value, (str, int, float, bool))):
                raise ApiError(400, f"option {name}: a string, number, true/false or null, not {type(value).__name__}")
        out = {k: v for k, v in options.items() if v is not None}
        try:  # every check of the run's options, now, not when the job runs
            run = RunOptions.from_mapping({k: v for k, v in out.items() if k != "segment_seconds"})
            if "segment_seconds" in out:
                film_seconds(out["segment_seconds"])
        except VidcolorError as e:
            raise ApiError(400, str(e)) from None
        for name in ("start", "duration"):
            if name in out:
                seconds_of(getattr(run.part, name), name)
        for name, most in (("input_size", MAX_INPUT_SIZE), ("workers", MAX_WORKERS), ("batch_size", MAX_BATCH)):
            value = out.get(name)
            if value is not None and not (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= most):
                raise ApiError(400, f"option {name}: a whole number from 1 to {most} on this server")
        if "weights" in out:
            out["weights"] = str(under_roots(str(out["weights"]), self.config.roots))
        return out

    @staticmethod
    def file_of(job: dict, which: str) -> Path:
        """A job's input (``before``) or its result (``after``, once done)."""
        if which not in ("before", "after"):
            raise ApiError(400, "which is before or after")
        if which == "after" and job["state"] != DONE:
            raise ApiError(404, "no result yet")
        path = Path(job["input"] if which == "before" else job["output"])
        if not path.is_file():
            raise ApiError(404, f"{job['name']}: the file is gone")
        return path

    @staticmethod
    def media_file(path: Path, request: Request, name: str | None = None) -> FileResponse:
        """A file by a job's id: played or shown where it is media a browser knows, else a
        download; ranges for seeking (Starlette's FileResponse)."""
        name = name or path.name
        kind = INLINE_TYPES.get(path.suffix.lower())
        download = request.query_params.get("download") or kind is None
        return FileResponse(path, media_type=kind or "application/octet-stream", filename=name,
                            content_disposition_type="attachment" if download else "inline")


def _offer(q: asyncio.Queue, item) -> None:
    """Into a page's queue, unless the page stopped reading (it gets the whole queue again when
    it reconnects)."""
    try:
        q.put_nowait(item)
    except asyncio.QueueFull:
        pass
