"""The server's application: the routes of each part (``routes_*``), the page's static files,
the guard in front of them all (``security``), and the queue started and stopped with it."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import VidcolorError
from . import routes_files, routes_jobs, routes_previews, routes_steer
from .config import ServeConfig
from .paths import Refused
from .routes_files import STATIC
from .security import Guard
from .server import ApiError, Server


def create_app(config: ServeConfig) -> Starlette:
    server = Server(config)
    routes = [route for part in (routes_files, routes_jobs, routes_previews, routes_steer)
              for route in part.routes(server)]
    routes.append(Mount("/static", StaticFiles(directory=STATIC), name="static"))

    async def routes_list(request: Request):
        return JSONResponse(sorted({f"{', '.join(sorted(r.methods - {'HEAD'}))} {r.path}"
                                    for r in routes if isinstance(r, Route)}))

    if config.docs:
        routes.append(Route("/api", routes_list))

    @asynccontextmanager
    async def lifespan(app):
        server.loop = asyncio.get_running_loop()
        routes_previews.expire_previews(server.preview_folder)
        server.scheduler.start()
        try:
            yield
        finally:
            for q in list(server.listeners):
                q.put_nowait(None)  # end the event streams, so the server can stop
            await run_in_threadpool(server.scheduler.stop)
            server.previews.close()
            server.store.close()

    async def refused(request: Request, exc: Refused | ApiError):
        return JSONResponse({"error": server.scrub(str(exc))}, status_code=exc.status)

    async def failed(request: Request, exc: VidcolorError):
        return JSONResponse({"error": server.scrub(str(exc))}, status_code=422)

    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={Refused: refused, ApiError: refused, VidcolorError: failed})
    app.add_middleware(Guard, token=config.token, host=config.host, port=config.port)
    app.state.server = server
    return app
