"""`create_app(settings)`: the FastAPI application `cadence serve` runs (and tests drive in-process)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

import cadence.web.routes as routes_package
from cadence.errors import AccessDenied, CadenceError, UnknownNameError
from cadence.web.deps import SignInRequired
from cadence.web.holder import WarehouseBusy, WorkspaceHolder
from cadence.web.pages import html, wants_json
from cadence.web.scheduler import DeliveryScheduler
from cadence.web.security import SameSiteOnly
from cadence.web.settings import Settings


def create_app(settings: Settings, *, holder: WorkspaceHolder | None = None) -> FastAPI:
    """The app over `settings.workspace`; `holder` may be given to share an open workspace (tests)."""
    held = holder or WorkspaceHolder(settings.workspace, idle_release_seconds=settings.idle_release_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        held.start_watching()
        deliveries = DeliveryScheduler(held)  # sends what is due each minute, when cadence.yml has `delivery:`
        deliveries.start()
        yield
        deliveries.stop()
        held.close()

    # /docs and /openapi.json are served by routes/api_docs.py, to signed-in users, with no script from a CDN
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, title="Cadence",
                  description="Revenue operations: the weekly scorecard, metrics with their "
                  "rows, pipeline, forecast, coaching, tempo, requests, roadmap and hiring — each page has a "
                  "JSON twin (the same path ending in .json).", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.holder = held
    app.add_middleware(SameSiteOnly)
    app.mount("/static", StaticFiles(directory=str(files("cadence.web").joinpath("static"))), name="static")
    for module in pkgutil.iter_modules(routes_package.__path__):
        loaded = importlib.import_module(f"{routes_package.__name__}.{module.name}")
        app.include_router(loaded.router)
    _errors(app)
    return app


def _errors(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, error: SignInRequired) -> Response:
        if wants_json(request) or request.url.path.endswith(".csv"):
            return JSONResponse({"error": error.one_line()}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(AccessDenied)
    async def denied(request: Request, error: AccessDenied) -> Response:
        return _error(request, 403, "Not for your role", error)

    @app.exception_handler(WarehouseBusy)
    async def busy(request: Request, error: WarehouseBusy) -> Response:
        response = _error(request, 503, "An import is running", error)
        response.headers["Retry-After"] = "2"
        return response

    @app.exception_handler(UnknownNameError)
    async def unknown(request: Request, error: UnknownNameError) -> Response:
        return _error(request, 404, "Not found", error)

    @app.exception_handler(CadenceError)
    async def refused(request: Request, error: CadenceError) -> Response:
        return _error(request, 400, "Cannot show this", error)


def _error(request: Request, status: int, title: str, error: CadenceError) -> Response:
    if wants_json(request) or request.url.path.endswith(".csv"):
        return JSONResponse({"error": error.one_line()}, status_code=status)
    return html(request, "error.html", status_code=status, title=title, message=error.one_line(),
                retry=status == 503)
