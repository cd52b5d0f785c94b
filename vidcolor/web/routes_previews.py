"""Previews through the API: a frame, each shot's first, or a few seconds, colorized with the
options given, before the long run.
"""
from __future__ import annotations

import asyncio
import re
import shutil
import time
import uuid
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Route

from ..errors import VidcolorError
from .server import ApiError, Server, model_of, part_of, seconds_of

MAX_CLIP_SECONDS = 30.0  # a preview is a taste, not the run
PREVIEW_LIFETIME = 24 * 3600.0  # seconds a preview's files are kept after it is made


def expire_previews(folder: Path, lifetime: float = PREVIEW_LIFETIME) -> None:
    """Remove the previews made more than ``lifetime`` seconds ago."""
    now = time.time()
    try:
        made = [p for p in folder.iterdir() if p.is_dir() and now - p.stat().st_mtime > lifetime]
    except OSError:  # no previews yet
        return
    for old in made:
        shutil.rmtree(old, ignore_errors=True)


def routes(server: Server) -> list[Route]:
    previews, preview_folder = server.previews, server.preview_folder
    body, source_of, checked_options = server.body, server.source_of, server.checked_options

    def new_preview() -> Path:
        expire_previews(preview_folder)
        folder = preview_folder / uuid.uuid4().hex[:12]
        folder.mkdir(parents=True)
        return folder

    async def preview(request: Request):
        """Colorize a frame (``time``), or the first good frame of each shot (``"shots": true``),
        with the options given; the frames before and after, as PNG files of the preview."""
        data = await body(request)
        path, name = source_of(data)
        options = checked_options(data.get("options"))
        if "segment_seconds" in options:
            raise ApiError(400, "option segment_seconds: a preview is made in one piece")
        if data.get("seconds") is not None:
            return await preview_clip(data, path, name, options)
        times = None if data.get("shots") else [seconds_of(data.get("time", 0), "time")]
        try:
            made = await asyncio.wrap_future(previews.frames(path, times, model_of(options), part_of(options)))
        except VidcolorError as e:
            raise ApiError(422, str(e)) from None
        folder = new_preview()
        preview_id = folder.name
        frames = []
        for i, (seconds, before, after) in enumerate(made):
            (folder / f"{i}-before.png").write_bytes(before)
            (folder / f"{i}-after.png").write_bytes(after)
            frames.append({"time": seconds, "before": f"/api/previews/{preview_id}/{i}-before.png",
                           "after": f"/api/previews/{preview_id}/{i}-after.png"})
        return JSONResponse({"id": preview_id, "name": name, "options": options, "frames": frames}, status_code=201)

    async def preview_clip(data: dict, path: Path, name: str, options: dict):
        """A few seconds from ``time``, colorized with every option given (smoothing shows only in
        motion), beside the same seconds as they are: two small H.264 films."""
        start, seconds = seconds_of(data.get("time", 0), "time"), seconds_of(data["seconds"], "seconds")
        if not 0 < seconds <= MAX_CLIP_SECONDS:
            raise ApiError(400, f'"seconds" of a preview lie between 0 and {MAX_CLIP_SECONDS:g}')
        folder = new_preview()
        preview_id = folder.name
        try:
            await asyncio.wrap_future(previews.clip(path, folder, start, seconds, options))
        except VidcolorError as e:
            shutil.rmtree(folder, ignore_errors=True)
            raise ApiError(422, str(e)) from None
        return JSONResponse({"id": preview_id, "name": name, "options": options, "frames": [],
                             "clip": {"time": start, "seconds": seconds,
                                      "before": f"/api/previews/{preview_id}/before.mp4",
                                      "after": f"/api/previews/{preview_id}/after.mp4"}}, status_code=201)

    async def preview_film(request: Request):
        preview_id, which = request.path_params["id"], request.path_params["which"]
        path = preview_folder / preview_id / f"{which}.mp4"
        if not preview_id.isalnum() or which not in ("before", "after") or not path.is_file():
            raise ApiError(404, "no such preview")
        return FileResponse(path, media_type="video/mp4", content_disposition_type="inline")

    async def preview_image(request: Request):
        preview_id, image = request.path_params["id"], request.path_params["image"]
        if not preview_id.isalnum() or not re.fullmatch(r"\d+-(before|after)", image):
            raise ApiError(404, "no such preview")
        path = preview_folder / preview_id / f"{image}.png"
        if not path.is_file():
            raise ApiError(404, "no such preview")
        return FileResponse(path, media_type="image/png")

    return [
        Route("/api/previews", preview, methods=["POST"]),
        Route("/api/previews/{id}/{image}.png", preview_image),
        Route("/api/previews/{id}/{which}.mp4", preview_film),
    ]
