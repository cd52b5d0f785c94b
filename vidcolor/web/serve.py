"""Start the server: bind first (so port 0 gives a free port, and the printed URL is the real
one), then hand the socket to uvicorn."""
from __future__ import annotations

import re
import socket
from dataclasses import replace

from ..errors import VidcolorError
from .config import ServeConfig

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Bytes from ``20G``, ``500M``, ``1.5T`` or a plain number (powers of 1024)."""
    m = _SIZE.match(str(text))
    if not m:
        raise VidcolorError(f"--max-upload {text}: a size such as 500M, 20G or 1T")
    return int(float(m.group(1)) * 1024 ** " kmgt".index((m.group(2) or " ").lower()))


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise VidcolorError(f"cannot listen on {host}:{port} ({e.strerror})") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(config: ServeConfig) -> str:
    host = config.host if config.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{config.port}/?token={config.token}"


def serve(config: ServeConfig, on_ready=print) -> None:
    """Run until interrupted; ``on_ready`` gets the URL to open once the server listens."""
    try:
        import uvicorn

        from .app import create_app
    except ImportError as e:
        raise VidcolorError(f"vidcolor serve needs the web extra ({e.name} is missing): "
                            "pip install 'vidcolor[web]'") from None
    config.output.mkdir(parents=True, exist_ok=True)
    sock = bind(config.host, config.port)
    config = replace(config, port=sock.getsockname()[1])
    app = create_app(config)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                                           timeout_graceful_shutdown=2))
    started = server.startup

    async def startup(sockets=None):  # the URL once the app is up and listening, not before
        await started(sockets=sockets)
        if server.started:
            on_ready(url_of(config))

    server.startup = startup
    server.run(sockets=[sock])
