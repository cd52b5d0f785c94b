"""What stands between the network and the files: the token, the Host allow-list (DNS
rebinding), the page's own origin for state-changing requests (CSRF), and headers that keep a
browser from running what it is served."""
from __future__ import annotations

import hmac
import ipaddress
import socket
from urllib.parse import parse_qs, urlsplit

from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

COOKIE = "vidcolor_token"  # and the port: cookies ignore ports, so two servers on one host need two names
SAFE_METHODS = ("GET", "HEAD")
HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' blob:; media-src 'self' blob:; "
                               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
NO_STORE = {"cache-control": "no-store"}  # the API's answers and the token's redirect: kept by no cache


def own_hosts(host: str) -> set[str]:
    """The names and addresses this server answers to: where it binds, and for a wildcard
    address, this machine's names and addresses."""
    names = {"localhost", "127.0.0.1", "::1"}
    if host in ("0.0.0.0", "::", ""):
        for name in (socket.gethostname(), socket.getfqdn()):
            names.add(name.lower())
            try:
                names.update(info[4][0] for info in socket.getaddrinfo(name, None))
            except OSError:
                pass
    else:
        names.add(host.lower())
    return names


def host_name(header: str) -> str:
    """The host of a Host header, without its port (IPv6 without brackets)."""
    parsed = urlsplit(f"//{header}")
    try:
        return (parsed.hostname or "").lower()
    except ValueError:
        return ""


def same_token(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


class Guard:
    """ASGI middleware: every HTTP request is checked here before any route sees it."""

    def __init__(self, app: ASGIApp, token: str, host: str, port: int):
        self.app, self.token, self.port = app, token, port
        self.hosts = own_hosts(host)
        self.cookie = f"{COOKIE}_{port}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope, headers)
        if refusal is None:
            query_token = _query(scope).get("token")
            if scope["method"] in SAFE_METHODS and scope["path"] == "/" and query_token is not None:
                # The token URL: a cookie for the page, then the same page without the token in it.
                if not same_token(query_token, self.token):
                    refusal = _error(401, "wrong token: open the URL vidcolor serve printed")
                else:
                    response = RedirectResponse("/", status_code=303, headers=NO_STORE)
                    response.set_cookie(self.cookie, self.token, httponly=True, samesite="strict", path="/")
                    return await _secured(response)(scope, receive, send)
        if refusal is not None:
            return await _secured(refusal)(scope, receive, send)

        api = scope["path"].startswith("/api/")

        async def send_secured(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if not (api and k.lower() == b"cache-control")]
                message["headers"] = headers + [(k.encode(), v.encode()) for k, v in
                                                {**HEADERS, **(NO_STORE if api else {})}.items()]
            await send(message)

        await self.app(scope, receive, send_secured)

    def _refusal(self, scope: Scope, headers: dict):
        if host_name(headers.get("host", "")) not in self.hosts:
            return _error(400, "this server does not answer to that host name")
        if scope["path"] == "/" and scope["method"] in SAFE_METHODS and "token" in _query(scope):
            return None
        bearer = headers.get("authorization", "")
        if bearer.lower().startswith("bearer "):
            if not same_token(bearer[7:].strip(), self.token):
                return _error(401, "wrong token")
            return None  # a script: no browser can send this header cross-site without CORS, which is off
        if not same_token(_cookies(headers).get(self.cookie), self.token):
            if scope["path"] == "/" and scope["method"] in SAFE_METHODS:
                return PlainTextResponse("vidcolor serve: open the URL with the token that the server printed "
                                         "when it started (http://HOST:PORT/?token=...)\n", status_code=401)
            return _error(401, "a token is needed: Authorization: Bearer TOKEN, or open the URL the server printed")
        if scope["method"] not in SAFE_METHODS and not self._same_origin(headers):
            return _error(403, "a change must come from the page of this server (cross-site request refused)")
        return None

    def _same_origin(self, headers: dict) -> bool:
        """A cookie-authenticated change comes from the page's own origin."""
        site = headers.get("sec-fetch-site")
        if site is not None:
            return site == "same-origin"
        origin = headers.get("origin")
        if origin is None:
            return False
        parsed = urlsplit(origin)
        own = urlsplit(f"//{headers.get('host', '')}")
        return parsed.scheme == "http" and (parsed.hostname or "").lower() == (own.hostname or "").lower() \
            and (parsed.port or 80) == (own.port or 80)


def _query(scope: Scope) -> dict:
    return {k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode("latin-1")).items()}


def _cookies(headers: dict) -> dict:
    out = {}
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            out[name] = value
    return out


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _secured(response):
    response.headers.update({**HEADERS, **NO_STORE})
    return response


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
