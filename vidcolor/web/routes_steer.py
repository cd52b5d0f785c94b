"""Steering a job's colors through the API: its keyframes (exported, downloaded, corrected ones
sent back) and its color points.
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Route

from ..errors import VidcolorError
from . import steer
from .store import RUNNING
from .server import ApiError, Server, model_of, part_of, read_limited


def routes(server: Server) -> list[Route]:
    scheduler, previews = server.scheduler, server.previews
    job_or_404, body = server.job_or_404, server.body

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
            if job["state"] == RUNNING:  # its worker reads them as it starts
                raise ApiError(409, "the job is running: cancel it, or wait, before exporting its keyframes")
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
            if job["state"] == RUNNING:  # its worker reads them as it starts
                raise ApiError(409, "the job is running: cancel it, or wait, before changing its colors")
            data = await read_limited(request, steer.MAX_KEYFRAME_BYTES, "a keyframe")
            _, _, shape = await clock_of(job)
            await run_in_threadpool(steer.save_keyframe, folder, path.name, data, shape)
        if not path.is_file():
            raise ApiError(404, f"no keyframe {path.name}")
        return FileResponse(path, media_type="image/png", headers={"cache-control": "no-store"})

    async def hints(request: Request):
        job = job_or_404(request.path_params["id"])
        folder = scheduler.folder(job["id"])
        path = steer.hints_file(folder)
        if request.method == "PUT":
            if job["state"] == RUNNING:  # its worker reads them as it starts
                raise ApiError(409, "the job is running: cancel it, or wait, before changing its colors")
            given = await body(request, list)
            rate, frames, shape = await clock_of(job)
            folder.mkdir(parents=True, exist_ok=True)
            await run_in_threadpool(steer.save_hints, folder, given, rate, frames, shape)
        return JSONResponse(json.loads(path.read_text()) if path.is_file() else [])

    return [
        Route("/api/jobs/{id}/keyframes", keyframes, methods=["GET", "POST"]),
        Route("/api/jobs/{id}/keyframes/{name}", keyframe, methods=["GET", "PUT"]),
        Route("/api/jobs/{id}/hints", hints, methods=["GET", "PUT"]),
    ]
