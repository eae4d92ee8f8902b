"""`/docs`: the API's reference, rendered on the server from the OpenAPI document (`/openapi.json`) — no script
from a CDN, so it works offline like every other page. Both need a signed-in session, like every route."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from cadence.accounts.users import User
from cadence.web.deps import any_signed_in
from cadence.web.pages import html

router = APIRouter()


def endpoints(openapi: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for path, methods in sorted(openapi.get("paths", {}).items()):
        for method, operation in methods.items():
            parameters = [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                           "type": p.get("schema", {}).get("type", "")} for p in operation.get("parameters", [])]
            rows.append({"path": path, "method": method.upper(), "summary": operation.get("summary", ""),
                         "tags": operation.get("tags", []), "parameters": parameters})
    return rows


@router.get("/openapi.json", include_in_schema=False)
def openapi_document(request: Request, user: User = Depends(any_signed_in)) -> Response:
    return JSONResponse(request.app.openapi())


@router.get("/docs", include_in_schema=False)
def api_docs(request: Request, user: User = Depends(any_signed_in)) -> Response:
    openapi = request.app.openapi()
    return html(request, "api_docs.html", info=openapi.get("info", {}), endpoints=endpoints(openapi))
