"""The admin console at ``/admin``: the single-page app built from ``admin/`` (docs/admin.md).

It is a client of the public JSON API like any other, so the server's only part is to
hand out its files: hashed assets cached for a year, ``index.html`` revalidated every
time (it names the current assets), any other path under ``/admin`` answered with
``index.html`` (a page of the app), ``.br``/``.gz`` copies made at build time sent to
clients that accept them, and a strict Content-Security-Policy on every response.
Without a build, ``/admin`` answers 503 saying how to build it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

import structlog
from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from storefront.core.errors import error_response

log = structlog.get_logger("storefront.admin_console")

PREFIX = "/admin"
# src/storefront/admin_console.py -> the repository's admin/dist (where `npm run build` writes).
DIST = Path(__file__).resolve().parents[2] / "admin" / "dist"
BUILD_HINT = "run `./dev serve` (it builds the console), or `npm ci && npm run build` in admin/"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
IMMUTABLE = "public, max-age=31536000, immutable"  # assets/ names carry a content hash
REVALIDATE = "no-cache"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".woff2": "font/woff2",
}
PRECOMPRESSED = (("br", ".br"), ("gzip", ".gz"))


def _accepted_encodings(headers: Headers) -> set[str]:
    accepted = set()
    for part in headers.get("accept-encoding", "").split(","):
        name, _, params = part.strip().partition(";")
        quality = params.strip().removeprefix("q=").strip() if params.strip().startswith("q=") else "1"
        try:
            if float(quality) > 0:
                accepted.add(name.strip().lower())
        except ValueError:
            continue
    return accepted


class AdminConsole:
    """The ASGI endpoint for ``/admin`` and every path below it."""

    def __init__(self, dist: Path = DIST) -> None:
        self.dist = dist
        self.routes = [Route(path, self, include_in_schema=False) for path in (PREFIX, PREFIX + "/{path:path}")]

    @property
    def built(self) -> bool:
        return (self.dist / "index.html").is_file()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Starlette's plain routes do not name themselves; logs and metrics group by this.
        scope.setdefault("route", self.routes[0] if scope["path"] == PREFIX else self.routes[1])
        response = self._respond(scope)
        response.headers.update(SECURITY_HEADERS)
        await response(scope, receive, send)

    def _respond(self, scope: Scope) -> Response:
        headers = Headers(scope=scope)
        if scope["method"] not in {"GET", "HEAD"}:
            return error_response(
                405, "METHOD_NOT_ALLOWED", "The admin console only serves GET and HEAD", headers={"Allow": "GET, HEAD"}
            )
        path: str = scope["path"]
        if path == PREFIX:
            query = scope.get("query_string", b"").decode("latin-1")
            return RedirectResponse(f"{PREFIX}/" + (f"?{query}" if query else ""), status_code=308)
        if not self.built:
            return self._not_built(headers)
        relative = path.removeprefix(f"{PREFIX}/")
        file = self._file(relative)
        is_asset = relative.startswith("assets/")
        if is_asset and file is None:  # an asset of another build: never answer it with a page
            return error_response(404, "NOT_FOUND", f"No such file: {path}")
        # Any other path that is not a file (favicon.svg and the like) is one of the
        # app's pages: index.html, and the app routes it.
        return self._file_response(file or self.dist / "index.html", headers, IMMUTABLE if is_asset else REVALIDATE)

    def _file(self, relative: str) -> Path | None:
        parts = PurePosixPath(relative).parts
        if not parts or any(part in {"..", "."} or part.startswith(".") or "\\" in part for part in parts):
            return None
        candidate = self.dist.joinpath(*parts)
        return candidate if candidate.is_file() else None

    def _file_response(self, file: Path, headers: Headers, cache_control: str) -> Response:
        media_type = MEDIA_TYPES.get(file.suffix, "application/octet-stream")
        accepted = _accepted_encodings(headers)
        encoding = None
        for name, suffix in PRECOMPRESSED:
            compressed = file.with_name(file.name + suffix)
            if name in accepted and compressed.is_file():
                file, encoding = compressed, name
                break
        stat = file.stat()
        etag = '"' + hashlib.sha1(f"{file.name}:{stat.st_mtime_ns}:{stat.st_size}".encode()).hexdigest()[:20] + '"'  # noqa: S324 - a cache validator, not security
        response_headers = {"Cache-Control": cache_control, "ETag": etag, "Vary": "Accept-Encoding"}
        if encoding:
            response_headers["Content-Encoding"] = encoding
        if etag in {tag.strip() for tag in headers.get("if-none-match", "").split(",")}:
            return Response(status_code=304, headers=response_headers)
        return FileResponse(file, media_type=media_type, headers=response_headers)

    def _not_built(self, headers: Headers) -> Response:
        message = f"The admin console is not built: {BUILD_HINT}."
        no_store = {"Cache-Control": "no-store", "Retry-After": "60"}
        if "text/html" in headers.get("accept", ""):
            page = (
                '<!doctype html><html lang="en"><head><meta charset="utf-8">'
                "<title>Admin console not built</title></head><body><main>"
                "<h1>The admin console is not built yet</h1>"
                "<p>Build it with <code>./dev serve</code> (which builds the console when it is missing or "
                "stale), or by running <code>npm ci &amp;&amp; npm run build</code> in <code>admin/</code>, "
                "then reload this page.</p></main></body></html>"
            )
            return HTMLResponse(page, status_code=503, headers=no_store)
        return error_response(503, "SERVICE_UNAVAILABLE", message, headers=no_store)


def mount_admin_console(app: FastAPI, dist: Path = DIST) -> AdminConsole:
    """Serve the console at /admin (``app.state.admin_console`` is the endpoint)."""
    console = AdminConsole(dist)
    app.state.admin_console = console
    app.router.routes.extend(console.routes)
    if not console.built:
        log.warning("admin_console_not_built", dist=str(dist), hint=BUILD_HINT)
    return console
