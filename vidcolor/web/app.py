"""The routes: a JSON API (documented in the README) that the page uses and scripts may call,
the page itself, and the files of jobs. Handlers parse, call the queue or the batch machinery
through it, and answer; anything slow runs in a thread or a worker process."""
from __future__ import annotations

import asyncio
import json
import re
import shutil
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import VidcolorError
from ..media.images import is_image_path
from ..media.timeline import parse_time
from ..batch.sources import is_media_path
from ..pipeline import MODEL_OPTIONS, STILLS_OPTIONS, VIDEO_ONLY_OPTIONS
from .config import ServeConfig
from .frames import Previews, frame_at, png
from .paths import Refused, listing, under_roots
from .scheduler import Scheduler
from . import proxy, steer
from .security import Guard
from .work import PICTURE
from .store import CANCELLED, DONE, FAILED, QUEUED, RUNNING, JobStore

STATIC = Path(__file__).parent / "static"
# What a job's options may hold: the Python API's keywords, less those that name more files (a
# film's references are picked up beside it) or change what a run writes beside its output.
JOB_OPTIONS = tuple(o for o in (*MODEL_OPTIONS, *VIDEO_ONLY_OPTIONS, *STILLS_OPTIONS)
                    if o not in ("references", "hints", "report", "fresh", "fps"))
PREVIEW_OPTIONS = ("model", "weights", "device", "input_size", "precision", "parity")  # what makes the model
# Served inline (played, shown); anything else is a download. Never HTML or SVG.
INLINE_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm", ".mov": "video/quicktime",
                ".mkv": "video/x-matroska", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                ".webp": "image/webp"}
HEARTBEAT = 15.0  # seconds between keep-alive comments on the event stream


def model_of(options: dict) -> dict:
    """The options that make the model (a preview's, a job's keyframes')."""
    return {k: v for k, v in options.items() if k in PREVIEW_OPTIONS}


def part_of(options: dict) -> dict:
    """The part of the film the options ask for."""
    return {k: options[k] for k in ("start", "duration") if k in options}


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def create_app(config: ServeConfig) -> Starlette:
    store = JobStore(config.state)
    listeners: set[asyncio.Queue] = set()
    loop_holder: dict = {}

    def notify(job: dict) -> None:
        """From any thread: a job changed; tell every page listening."""
        loop = loop_holder.get("loop")
        if loop is None:
            return
        payload = public(job) if "state" in job else job
        for q in list(listeners):
            try:
                loop.call_soon_threadsafe(q.put_nowait, payload)
            except RuntimeError:  # the loop has closed: the server is stopping
                return

    scheduler = Scheduler(store, config.output, config.concurrent, notify)
    previews = Previews()
    preview_folder = config.state / "previews"
    uploads_folder = config.state / "uploads"

    def public(job: dict) -> dict:
        out = {k: job[k] for k in ("id", "state", "name", "input", "options", "frames_done", "frames_total",
                                   "fps", "eta_seconds", "error", "output", "created", "started", "finished", "position")}
        out["result_url"] = f"/api/jobs/{job['id']}/result" if job["state"] == DONE and job["output"] else None
        out["kind"] = "image" if is_image_path(Path(job["input"])) else "video"
        out["start_seconds"] = start_of(job)
        picture = scheduler.folder(job["id"]) / PICTURE
        try:
            out["picture_url"] = f"/api/jobs/{job['id']}/picture?v={picture.stat().st_mtime_ns // 10**6}"
        except OSError:
            out["picture_url"] = None
        return out

    def start_of(job: dict) -> float:
        """Where the job's part starts in its input, in seconds (0: the whole film)."""
        try:
            return float(parse_time(job["options"].get("start"), "start") or 0)
        except VidcolorError:
            return 0.0

    def job_or_404(job_id: str) -> dict:
        job = store.get(job_id)
        if job is None:
            raise ApiError(404, f"no job {job_id}")
        return job

    async def body(request: Request) -> dict:
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError:
            raise ApiError(400, "the request's body is not JSON") from None
        if not isinstance(data, dict):
            raise ApiError(400, "the request's body must be a JSON object")
        return data

    def source_of(data: dict) -> tuple[Path, str]:
        """The input a request names: a path under a root, or an upload; with its name to show."""
        if data.get("upload"):
            upload = store.upload(str(data["upload"]))
            if upload is None:
                raise ApiError(404, f"no upload {data['upload']}")
            return Path(upload["path"]), upload["name"]
        if not isinstance(data.get("input"), str):
            raise ApiError(400, 'give "input" (a path under a root) or "upload" (an upload\'s id)')
        path = under_roots(data["input"], config.roots)
        if not path.is_file() or not is_media_path(path):
            raise ApiError(400, f"{data['input']}: not a video or image file")
        return path, path.name

    def checked_options(options, allowed=JOB_OPTIONS) -> dict:
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
        if "weights" in out:
            out["weights"] = str(under_roots(str(out["weights"]), config.roots))
        return out

    # -- routes -----------------------------------------------------------------------------
    async def index(request: Request):
        return FileResponse(STATIC / "index.html", media_type="text/html")

    async def favicon(request: Request):
        return FileResponse(STATIC / "favicon.png", media_type="image/png")

    async def api_config(request: Request):
        from ..media.presets import PRESETS
        from ..models import MODELS

        from ..temporal import DEFAULT_STRENGTH

        return JSONResponse({"roots": [str(r) for r in config.roots], "output": str(config.output),
                             "max_upload": config.max_upload, "options": list(JOB_OPTIONS),
                             "presets": sorted(PRESETS), "models": sorted(MODELS),
                             "defaults": {"smooth_strength": DEFAULT_STRENGTH}})

    async def files(request: Request):
        path = request.query_params.get("path")
        if not path:
            return JSONResponse({"path": None, "parent": None, "entries": [
                {"name": str(r), "path": str(r), "kind": "folder", "size": None} for r in config.roots]})
        folder = under_roots(path, config.roots)
        if not folder.is_dir():
            raise ApiError(400, f"{path}: not a folder")
        parent = None if folder in config.roots else str(folder.parent)
        return JSONResponse({"path": str(folder), "parent": parent,
                             "entries": await run_in_threadpool(listing, folder, config.roots)})

    async def upload(request: Request):
        name = Path(request.query_params.get("name") or "upload").name[:200] or "upload"
        suffix = Path(name).suffix.lower()
        if not is_media_path(Path(name)):
            suffix = ".bin"  # kept, never run or served as what its name says
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > config.max_upload:
            raise ApiError(413, f"{name}: {int(length)} bytes is over this server's limit of {config.max_upload}")
        uploads_folder.mkdir(parents=True, exist_ok=True)
        needed = int(length) if length and length.isdigit() else 0
        if shutil.disk_usage(uploads_folder).free < needed + 2**30:
            raise ApiError(507, f"{name}: not enough free disk space for it on the server")
        upload_id = uuid.uuid4().hex[:12]
        folder = uploads_folder / upload_id
        folder.mkdir()
        final, partial = folder / f"upload{suffix}", folder / f".upload{suffix}.partial"
        size = 0
        try:
            with open(partial, "wb") as f:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > config.max_upload:
                        raise ApiError(413, f"{name}: over this server's limit of {config.max_upload} bytes")
                    await run_in_threadpool(f.write, chunk)
            partial.replace(final)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        store.add_upload(upload_id, name, final, size)
        return JSONResponse({"id": upload_id, "name": name, "size": size}, status_code=201)

    async def jobs(request: Request):
        if request.method == "GET":
            return JSONResponse([public(j) for j in store.all()])
        data = await body(request)
        path, name = source_of(data)
        job = store.add(path, name, checked_options(data.get("options")))
        scheduler.poke()
        notify(job)
        return JSONResponse(public(job), status_code=201)

    async def job(request: Request):
        job_id = request.path_params["id"]
        if request.method == "DELETE":
            job_or_404(job_id)
            if not scheduler.remove(job_id):
                raise ApiError(409, "the job is running: cancel it first")
            return JSONResponse({"id": job_id, "removed": True})
        return JSONResponse(public(job_or_404(job_id)))

    async def cancel(request: Request):
        job = job_or_404(request.path_params["id"])
        if job["state"] not in (QUEUED, RUNNING):
            raise ApiError(409, f"the job is {job['state']}: only a queued or running job can be cancelled")
        return JSONResponse(public(scheduler.cancel(job["id"])))

    async def retry(request: Request):
        job = job_or_404(request.path_params["id"])
        if job["state"] not in (FAILED, CANCELLED, DONE) or scheduler.running(job["id"]):
            raise ApiError(409, f"the job is {job['state']}: only a finished, failed or cancelled job can run again")
        job = store.update(job["id"], state=QUEUED, error=None, finished=None)
        scheduler.poke()
        notify(job)
        return JSONResponse(public(job))

    async def move(request: Request):
        job = job_or_404(request.path_params["id"])
        to = (await body(request)).get("to")
        if not isinstance(to, int) or isinstance(to, bool):
            raise ApiError(400, '"to" must be the job\'s new place in the queue, from 0')
        store.move(job["id"], to)
        for j in store.all():
            notify(j)
        return JSONResponse([public(j) for j in store.all()])

    async def result(request: Request):
        job = job_or_404(request.path_params["id"])
        if job["state"] != DONE or not job["output"] or not Path(job["output"]).is_file():
            raise ApiError(404, f"the job is {job['state']}: no result yet")
        return media_file(Path(job["output"]), request)

    async def results_zip(request: Request):
        """The results of the jobs named (``ids``, comma-separated; all done ones without it), stored
        in one zip (films do not compress): made in a thread, into the state folder, then sent."""
        wanted = [i for i in request.query_params.get("ids", "").split(",") if i]
        chosen = [j for j in store.all() if j["state"] == DONE and j["output"] and (not wanted or j["id"] in wanted)]
        files = [(j["id"], Path(j["output"])) for j in chosen if Path(j["output"]).is_file()]
        if not files:
            raise ApiError(404, "no finished results to put in a zip")
        folder = config.state / "zips"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"vidcolor-results-{uuid.uuid4().hex[:8]}.zip"

        def write():
            import zipfile

            with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
                for job_id, path in files:
                    z.write(path, f"{job_id}-{path.name}")

        await run_in_threadpool(write)
        return FileResponse(target, media_type="application/zip", filename="vidcolor-results.zip",
                            background=BackgroundTask(target.unlink, missing_ok=True))

    async def job_input(request: Request):
        job = job_or_404(request.path_params["id"])
        path = Path(job["input"])
        if not path.is_file():
            raise ApiError(404, f"{job['name']}: the input is gone")
        return media_file(path, request, name=job["name"])

    async def job_video(request: Request):
        """The input or the result as a browser can play it: itself, or an H.264 proxy."""
        job = job_or_404(request.path_params["id"])
        which = request.query_params.get("which", "after")
        if which not in ("before", "after"):
            raise ApiError(400, "which is before or after")
        if which == "after" and job["state"] != DONE:
            raise ApiError(404, "no result yet")
        path = Path(job["input"] if which == "before" else job["output"])
        if not path.is_file():
            raise ApiError(404, f"{job['name']}: the file is gone")
        shown = await run_in_threadpool(proxy.viewable, path, scheduler.folder(job["id"]) / f"proxy-{which}.mp4")
        return FileResponse(shown, media_type=INLINE_TYPES.get(shown.suffix.lower(), "video/mp4"),
                            headers={"cache-control": "no-store"}, content_disposition_type="inline",
                            filename=f"{which}-{Path(job['name']).stem}{shown.suffix}")

    def media_file(path: Path, request: Request, name: str | None = None) -> FileResponse:
        """A file by a job's id: played or shown where it is media a browser knows, else a
        download; ranges for seeking (Starlette's FileResponse)."""
        name = name or path.name
        kind = INLINE_TYPES.get(path.suffix.lower())
        download = request.query_params.get("download") or kind is None
        return FileResponse(path, media_type=kind or "application/octet-stream", filename=name,
                            content_disposition_type="attachment" if download else "inline")

    async def job_frame(request: Request):
        job = job_or_404(request.path_params["id"])
        which = request.query_params.get("which", "before")
        try:
            seconds = float(request.query_params.get("t", "0"))
        except ValueError:
            raise ApiError(400, "t must be a time in seconds") from None
        if which not in ("before", "after"):
            raise ApiError(400, "which is before or after")
        if which == "after" and job["state"] != DONE:
            raise ApiError(404, "no result yet")
        path = Path(job["input"] if which == "before" else job["output"])
        if which == "before":  # the result of a part starts at the part's start
            seconds += start_of(job)
        rgb = await run_in_threadpool(frame_at, path, seconds)
        return Response(await run_in_threadpool(png, rgb), media_type="image/png",
                        headers={"cache-control": "no-store"})

    async def quality(request: Request):
        """The steadiness of a finished job's result (``vidcolor eval``): measured on POST, kept."""
        job = job_or_404(request.path_params["id"])
        report = scheduler.folder(job["id"]) / "quality.json"
        if request.method == "POST":
            if job["state"] != DONE:
                raise ApiError(409, f"the job is {job['state']}: its result is measured once it is done")
            try:
                await asyncio.wrap_future(previews.quality(Path(job["input"]), Path(job["output"]), report,
                                                           part_of(job["options"])))
            except VidcolorError as e:
                raise ApiError(422, str(e)) from None
        if not report.is_file():
            return JSONResponse(None)  # not measured yet
        return Response(report.read_bytes(), media_type="application/json",
                        status_code=201 if request.method == "POST" else 200)

    async def job_picture(request: Request):
        """The latest frame a job made, small (a thumbnail for the queue)."""
        job = job_or_404(request.path_params["id"])
        path = scheduler.folder(job["id"]) / PICTURE
        if not path.is_file():
            raise ApiError(404, "no picture yet")
        return FileResponse(path, media_type="image/jpeg", headers={"cache-control": "private, max-age=3600"})

    async def job_report(request: Request):
        job = job_or_404(request.path_params["id"])
        report = scheduler.folder(job["id"]) / "report.json"
        if not report.is_file():
            raise ApiError(404, "no report yet")
        return Response(report.read_bytes(), media_type="application/json")

    # -- steering: keyframes and color points --------------------------------------------------
    async def clock_of(job: dict):
        try:
            return await run_in_threadpool(steer.film_clock, Path(job["input"]))
        except VidcolorError as e:
            raise ApiError(422, str(e)) from None

    async def keyframes(request: Request):
        job = job_or_404(request.path_params["id"])
        folder = scheduler.folder(job["id"])
        rate, _, _ = await clock_of(job)
        if request.method == "POST":
            data = await body(request)
            if steer.corrected(folder) and not data.get("overwrite"):
                raise ApiError(409, "this job has corrected keyframes: exporting again replaces them "
                                    '(send {"overwrite": true} to do so)')
            folder.mkdir(parents=True, exist_ok=True)
            future = previews.keyframes(Path(job["input"]), steer.keyframes_folder(folder), model_of(job["options"]),
                                        part_of(job["options"]))
            try:
                await asyncio.wrap_future(future)
            except VidcolorError as e:
                raise ApiError(422, str(e)) from None
        return JSONResponse([{**k, "url": f"/api/jobs/{job['id']}/keyframes/{k['name']}"}
                             for k in steer.list_keyframes(folder, rate)],
                            status_code=201 if request.method == "POST" else 200)

    async def keyframe(request: Request):
        job = job_or_404(request.path_params["id"])
        folder = scheduler.folder(job["id"])
        path = steer.keyframe_path(folder, request.path_params["name"])
        if request.method == "PUT":
            if scheduler.running(job["id"]):
                raise ApiError(409, "the job is running: cancel it, or wait, before changing its colors")
            data = bytearray()
            async for chunk in request.stream():
                data += chunk
                if len(data) > steer.MAX_KEYFRAME_BYTES:
                    raise ApiError(413, f"a keyframe of over {steer.MAX_KEYFRAME_BYTES} bytes")
            _, _, shape = await clock_of(job)
            await run_in_threadpool(steer.save_keyframe, folder, path.name, bytes(data), shape)
        if not path.is_file():
            raise ApiError(404, f"no keyframe {path.name}")
        return FileResponse(path, media_type="image/png", headers={"cache-control": "no-store"})

    async def hints(request: Request):
        job = job_or_404(request.path_params["id"])
        folder = scheduler.folder(job["id"])
        path = steer.hints_file(folder)
        if request.method == "PUT":
            if scheduler.running(job["id"]):
                raise ApiError(409, "the job is running: cancel it, or wait, before changing its colors")
            try:
                given = json.loads(await request.body() or b"[]")
            except ValueError:
                raise ApiError(400, "the request's body is not JSON") from None
            rate, frames, shape = await clock_of(job)
            folder.mkdir(parents=True, exist_ok=True)
            await run_in_threadpool(steer.save_hints, folder, given, rate, frames, shape)
        return JSONResponse(json.loads(path.read_text()) if path.is_file() else [])

    async def preview(request: Request):
        """Colorize a frame (``time``), or the first good frame of each shot (``"shots": true``),
        with the options given; the frames before and after, as PNG files of the preview."""
        data = await body(request)
        path, name = source_of(data)
        options = checked_options(data.get("options"))
        if data.get("shots"):
            times = None
        else:
            try:
                times = [float(data.get("time", 0))]
            except (TypeError, ValueError):
                raise ApiError(400, '"time" must be seconds from the start') from None
        try:
            made = await asyncio.wrap_future(previews.frames(path, times, model_of(options), part_of(options)))
        except VidcolorError as e:
            raise ApiError(422, str(e)) from None
        preview_id = uuid.uuid4().hex[:12]
        folder = preview_folder / preview_id
        folder.mkdir(parents=True)
        frames = []
        for i, (seconds, before, after) in enumerate(made):
            (folder / f"{i}-before.png").write_bytes(before)
            (folder / f"{i}-after.png").write_bytes(after)
            frames.append({"time": seconds, "before": f"/api/previews/{preview_id}/{i}-before.png",
                           "after": f"/api/previews/{preview_id}/{i}-after.png"})
        return JSONResponse({"id": preview_id, "name": name, "options": options, "frames": frames}, status_code=201)

    async def preview_image(request: Request):
        preview_id, image = request.path_params["id"], request.path_params["image"]
        if not preview_id.isalnum() or not re.fullmatch(r"\d+-(before|after)", image):
            raise ApiError(404, "no such preview")
        path = preview_folder / preview_id / f"{image}.png"
        if not path.is_file():
            raise ApiError(404, "no such preview")
        return FileResponse(path, media_type="image/png")

    async def events(request: Request):
        q: asyncio.Queue = asyncio.Queue()
        listeners.add(q)

        async def stream():
            try:
                yield f"event: jobs\ndata: {json.dumps([public(j) for j in store.all()])}\n\n"
                while True:
                    try:
                        item = await asyncio.wait_for(q.get(), HEARTBEAT)
                    except asyncio.TimeoutError:
                        yield ": still here\n\n"
                        continue
                    if item is None:
                        return
                    yield f"event: job\ndata: {json.dumps(item)}\n\n"
            finally:
                listeners.discard(q)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"cache-control": "no-store", "x-accel-buffering": "no"})

    async def routes_list(request: Request):
        return JSONResponse(sorted({f"{', '.join(sorted(r.methods - {'HEAD'}))} {r.path}"
                                    for r in app.routes if isinstance(r, Route)}))

    @asynccontextmanager
    async def lifespan(app):
        loop_holder["loop"] = asyncio.get_running_loop()
        scheduler.start()
        try:
            yield
        finally:
            for q in list(listeners):
                q.put_nowait(None)  # end the event streams, so the server can stop
            await run_in_threadpool(scheduler.stop)
            previews.close()
            store.close()

    routes = [
        Route("/", index), Route("/favicon.ico", favicon),
        Route("/api/config", api_config), Route("/api/files", files),
        Route("/api/uploads", upload, methods=["POST"]),
        Route("/api/jobs", jobs, methods=["GET", "POST"]),
        Route("/api/results.zip", results_zip),
        Route("/api/jobs/{id}", job, methods=["GET", "DELETE"]),
        Route("/api/jobs/{id}/cancel", cancel, methods=["POST"]),
        Route("/api/jobs/{id}/retry", retry, methods=["POST"]),
        Route("/api/jobs/{id}/move", move, methods=["POST"]),
        Route("/api/jobs/{id}/result", result), Route("/api/jobs/{id}/input", job_input),
        Route("/api/jobs/{id}/quality", quality, methods=["GET", "POST"]),
        Route("/api/jobs/{id}/frame", job_frame), Route("/api/jobs/{id}/picture", job_picture), Route("/api/jobs/{id}/video", job_video), Route("/api/jobs/{id}/report", job_report),
        Route("/api/jobs/{id}/keyframes", keyframes, methods=["GET", "POST"]),
        Route("/api/jobs/{id}/keyframes/{name}", keyframe, methods=["GET", "PUT"]),
        Route("/api/jobs/{id}/hints", hints, methods=["GET", "PUT"]),
        Route("/api/previews", preview, methods=["POST"]),
        Route("/api/previews/{id}/{image}.png", preview_image),
        Route("/api/events", events),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    if config.docs:
        routes.append(Route("/api", routes_list))

    async def refused(request: Request, exc: Refused | ApiError):
        return JSONResponse({"error": str(exc)}, status_code=exc.status)

    async def failed(request: Request, exc: VidcolorError):
        return JSONResponse({"error": str(exc)}, status_code=422)

    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={Refused: refused, ApiError: refused, VidcolorError: failed})
    app.add_middleware(Guard, token=config.token, host=config.host, port=config.port)
    app.state.scheduler, app.state.store = scheduler, store
    return app
