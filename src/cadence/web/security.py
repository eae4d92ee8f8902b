"""Cross-site request refusal and the headers every response carries.

A state-changing request (POST, PUT, PATCH, DELETE) is accepted only when the browser says it came from this
site: `Sec-Fetch-Site: same-origin` (or `none`, typed by the user), else an `Origin` equal to this server's own.
A request that says neither is refused too, so a form on another site can never act for a signed-in user; the
session cookie is SameSite=Lax besides.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def same_site(request: Request) -> bool:
    """True when the browser says the request came from a page of this site."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return False
    parts = urlsplit(origin)
    host = request.headers.get("host", "")
    return parts.netloc == host and parts.scheme in ("http", "https")


class SameSiteOnly(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.method in UNSAFE and not same_site(request):
            return PlainTextResponse("Refused: this request did not come from a Cadence page (cross-site request).",
                                     status_code=403)
        response = await call_next(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.endswith((".json", ".csv")) or request.method in UNSAFE:
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never //evil.example or a full URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
