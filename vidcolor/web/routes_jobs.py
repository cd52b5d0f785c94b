"""The queue through the API: jobs added, listed, cancelled, retried, moved, removed; their files,
frames, pictures, reports and steadiness; the event stream.
"""
from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..errors import VidcolorError
from . import proxy, steer
from .frames import frame_at, png
from .server import INLINE_TYPES, LISTENER_BACKLOG, ApiError, Server, part_of, seconds_of
from .store import CANCELLED, DONE, FAILED, QUEUED, RUNNING
from .work import PICTURE

HEARTBEAT = 15.0  # seconds between keep-alive comments on the event stream


def unreached_frames(folder: Path, job: dict) -> list[dict]:
    """Where the job's last run found its references holding less than half of the picture, as
    runs of frames (its batch report has them in seconds)."""
    try:
        runs = json.loads((folder / "report.json").read_text())["items"][0].get("needs_reference") or []
    except (OSError, ValueError, KeyError, IndexError):
        return []
    rate = float(steer.film_clock(Path(job["output"]))[0])
    return [{"first": a, "last": b, "first_frame": round(a * rate), "last_frame": round(b * rate)} for a, b in runs]


def routes(server: Server) -> list[Route]:
    config, store, scheduler, previews = server.config, server.store, server.scheduler, server.previews
    public, job_or_404, body = server.public, server.job_or_404, server.body
    source_of, checked_options, notify = server.source_of, server.checked_options, server.notify
    media_file, file_of, start_of, listeners = server.media_file, server.file_of, server.start_of, server.listeners

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
        if job["state"] not in (FAILED, CANCELLED, DONE):
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
        path = file_of(job, which)
        shown = await run_in_threadpool(proxy.viewable, path, scheduler.folder(job["id"]) / f"proxy-{which}.mp4")
        return FileResponse(shown, media_type=INLINE_TYPES.get(shown.suffix.lower(), "video/mp4"),
                            headers={"cache-control": "no-store"}, content_disposition_type="inline",
                            filename=f"{which}-{Path(job['name']).stem}{shown.suffix}")

    async def job_frame(request: Request):
        job = job_or_404(request.path_params["id"])
        which = request.query_params.get("which", "before")
        seconds = seconds_of(request.query_params.get("t", "0"), "t")
        path = file_of(job, which)
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
        measured = json.loads(report.read_text())
        measured["needs_reference"] = await run_in_threadpool(unreached_frames, scheduler.folder(job["id"]), job)
        return JSONResponse(measured, status_code=201 if request.method == "POST" else 200)

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

    async def events(request: Request):
        q: asyncio.Queue = asyncio.Queue(LISTENER_BACKLOG)
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

    return [
        Route("/api/results.zip", results_zip),
        Route("/api/jobs", jobs, methods=["GET", "POST"]),
        Route("/api/jobs/{id}", job, methods=["GET", "DELETE"]),
        Route("/api/jobs/{id}/cancel", cancel, methods=["POST"]),
        Route("/api/jobs/{id}/retry", retry, methods=["POST"]),
        Route("/api/jobs/{id}/move", move, methods=["POST"]),
        Route("/api/jobs/{id}/result", result),
        Route("/api/jobs/{id}/input", job_input),
        Route("/api/jobs/{id}/quality", quality, methods=["GET", "POST"]),
        Route("/api/jobs/{id}/frame", job_frame),
        Route("/api/jobs/{id}/picture", job_picture),
        Route("/api/jobs/{id}/video", job_video),
        Route("/api/jobs/{id}/report", job_report),
        Route("/api/events", events),
    ]
