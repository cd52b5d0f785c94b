"""The page, and what it needs to add work: the configuration, the roots' folders, uploads."""
from __future__ import annotations

import errno
import shutil
import uuid
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Route

from ..batch.sources import is_media_path
from .paths import listing, under_roots
from .server import JOB_OPTIONS, ApiError, Server

STATIC = Path(__file__).parent / "static"


def routes(server: Server) -> list[Route]:
    config, store, uploads_folder = server.config, server.store, server.uploads_folder

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
        except BaseException as e:
            shutil.rmtree(folder, ignore_errors=True)
            if isinstance(e, OSError) and e.errno == errno.ENOSPC:
                raise ApiError(507, f"{name}: the server's disk filled up during the upload") from None
            raise
        store.add_upload(upload_id, name, final, size)
        return JSONResponse({"id": upload_id, "name": name, "size": size}, status_code=201)

    async def upload_one(request: Request):
        """DELETE: the upload's file gone from the server (the jobs made from it keep their results)."""
        upload_id = request.path_params["id"]
        found = store.upload(upload_id)
        if found is None:
            raise ApiError(404, f"no upload {upload_id}")
        if store.using(found["path"]):
            raise ApiError(409, f"{found['name']}: a queued or running job uses this upload: cancel it first")
        store.remove_upload(upload_id)
        shutil.rmtree(uploads_folder / upload_id, ignore_errors=True)
        return JSONResponse({"id": upload_id, "removed": True})

    return [
        Route("/", index),
        Route("/favicon.ico", favicon),
        Route("/api/config", api_config),
        Route("/api/files", files),
        Route("/api/uploads", upload, methods=["POST"]),
        Route("/api/uploads/{id}", upload_one, methods=["DELETE"]),
    ]
