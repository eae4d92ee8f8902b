"""One result, two renders: the HTML page and its JSON twin (`/scorecard` and `/scorecard.json`)."""

from __future__ import annotations

import csv
import io
from importlib.resources import files
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from cadence.report.format import format_change, format_value, status_label
from cadence.web.payload import plain

_TEMPLATES = str(files("cadence.web").joinpath("templates"))


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["value"] = lambda v, unit, currency="USD": format_value(v, unit, currency)
    env.filters["change"] = format_change
    env.filters["status"] = status_label
    env.filters["label"] = lambda name: str(name).replace("_", " ")
    env.globals["htmx"] = files("cadence.web").joinpath("static/htmx.min.js").is_file()
    return env


templates = Jinja2Templates(env=_environment())


def wants_json(request: Request) -> bool:
    return request.url.path.endswith(".json")


def respond(request: Request, template: str, data: Any, *, status_code: int = 200, **context: Any) -> Response:
    """`data` as JSON on a .json path, else `template` rendered with `data` and `context`."""
    if wants_json(request):
        return JSONResponse(plain(data), status_code=status_code)
    return html(request, template, status_code=status_code, data=data, **context)


def html(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    viewer = context.pop("viewer", None) or getattr(request.state, "viewer", None)
    response: HTMLResponse = templates.TemplateResponse(
        request, template, {"viewer": viewer, **context}, status_code=status_code)
    return response


def csv_response(rows: list[dict[str, Any]], columns: list[str], filename: str) -> Response:
    """Rows as a CSV download (UTF-8 with a BOM so spreadsheet programs read accents right)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in filename)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{safe}"'})


def _cell(value: Any) -> Any:
    value = plain(value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _number(value):
        return "'" + value  # a cell a spreadsheet would run as a formula stays text
    return "" if value is None else value


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
