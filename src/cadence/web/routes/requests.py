"""Customer feature requests in dollars (what `cadence requests list` prints) and their themes (`cadence requests
themes`), with the forms to add a request linked to a deal and to edit themes — rename, merge, split, pin, unpin.

A manager adds requests for their own team's deals and accounts; themes are the company's, found over every
request, so only those who see every request (executives, admins) edit them. Each form calls the same function
as the CLI and answers a refusal beside its field with nothing written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from cadence.analysis.as_of import resolve_as_of
from cadence.analysis.roadmap.data import check_request_links
from cadence.analysis.roadmap.listing import (
    REQUEST_COLUMNS,
    RequestList,
    ThemeList,
    request_list,
    theme_list,
    valuation_for,
)
from cadence.analysis.roadmap.plan import Valuation
from cadence.entries import add_request
from cadence.entries import themes as theme_entries
from cadence.errors import AccessDenied, CadenceError, InputError
from cadence.ingest.request_sources import NewRequest
from cadence.web.deps import Viewer, settings_of, viewer
from cadence.web.pages import respond, wants_json
from cadence.web.results import kept

router = APIRouter(tags=["requests"])
REQUEST_FIELDS = ("title", "account", "deal", "certainty", "by", "feature", "theme", "at", "request_id")
EDITS: dict[str, tuple[str, ...]] = {
    "rename": ("key", "name"), "merge": ("key", "into"), "split": ("key", "words", "name"),
    "pin": ("request", "theme"), "unpin": ("request",),
}
STATUSES = ("open", "planned", "shipped", "declined")


def as_of_of(request: Request, seen: Viewer) -> date:
    """The first day not counted: the day after the data's last day (or the server's --today)."""
    return resolve_as_of(seen.ws, settings_of(request).today).next_day


def valuation_of(request: Request, seen: Viewer, period: str | None) -> Valuation:
    """Every request, feature and theme valued if answered in `period`, on the viewer's rows."""
    return kept(request, seen, ("valuation", period or None, _themes_file(seen)),
                lambda: valuation_for(seen.ws, as_of_of(request, seen), period or None,
                                      overrides=theme_entries.load_theme_overrides(seen.ws)))


def _themes_file(seen: Viewer) -> str:
    """The theme edits as saved (part of the cache key: an edit changes the themes without an import)."""
    return theme_entries.themes_text(seen.ws)


@router.get("/requests", include_in_schema=False)
@router.get("/requests.json", summary="Feature requests, most valuable first (as `cadence requests list`)")
def requests_page(request: Request, status: str | None = None, theme: str | None = None, period: str | None = None,
                  limit: int = 30, added: str | None = None,
                  seen: Viewer = Depends(viewer("requests"))) -> Response:
    return _requests(request, seen, {"status": status or "", "theme": theme or "", "period": period or "",
                                     "limit": limit}, flash=f"Added request {added}" if added else None)


def _requests(request: Request, seen: Viewer, query: dict[str, Any], *, values: dict[str, str] | None = None,
              errors: dict[str, str] | None = None, flash: str | None = None, status: int = 200) -> Response:
    valuation = valuation_of(request, seen, query["period"] or None)
    found: RequestList = request_list(valuation, status=query["status"] or None, theme=query["theme"] or None,
                                      limit=int(query["limit"]))
    if wants_json(request):
        return respond(request, "requests.html", found, status_code=status)
    themes: ThemeList = theme_list(valuation)
    return respond(request, "requests.html", found, status_code=status, viewer=seen, query=query,
                   columns=REQUEST_COLUMNS, themes=themes.rows[:10], currency=seen.ws.currency, statuses=STATUSES,
                   values=values or {f: "" for f in REQUEST_FIELDS}, errors=errors or {}, flash=flash,
                   may_write=seen.may_write("requests"))


class FieldRefused(InputError):
    """Input refused before the entry function ran, naming the form field."""

    def __init__(self, field: str, message: str, hint: str | None = None):
        self.field = field
        super().__init__(message, hint=hint)


def _when(text: str) -> datetime | None:
    """When it was asked: YYYY-MM-DD (as `cadence requests add --at`), None for now."""
    if not text.strip():
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise FieldRefused("at", f"not a date: {text!r}", hint="write it as YYYY-MM-DD") from None


def _request_field(error: CadenceError) -> str:
    """The form field a refusal is about."""
    named = getattr(error, "field", None) or getattr(error, "column", None)
    columns = {"title": "title", "account_id": "account", "opportunity_id": "deal", "certainty": "certainty",
               "requested_by": "by", "feature_id": "feature", "theme": "theme", "requested_at": "at",
               "request_id": "request_id"}
    if named in REQUEST_FIELDS:
        return str(named)
    if named in columns:
        return columns[str(named)]
    text = error.message.lower()
    for word, field in (("deal", "deal"), ("opportunit", "deal"), ("account", "account"), ("feature", "feature"),
                        ("certainty", "certainty"), ("title", "title")):
        if word in text:
            return field
    return "title"


@router.post("/requests", include_in_schema=False)
def add(request: Request, title: str = Form(""), account: str = Form(""), deal: str = Form(""),
        certainty: str = Form(""), by: str = Form(""), feature: str = Form(""), theme: str = Form(""),
        at: str = Form(""), request_id: str = Form(""), seen: Viewer = Depends(viewer("requests"))) -> Response:
    """Add one request (`cadence requests add`): its account, deal and feature must exist — for a manager, their
    own team's account and deal."""
    seen.require_write("requests")
    values = {"title": title, "account": account, "deal": deal, "certainty": certainty, "by": by,
              "feature": feature, "theme": theme, "at": at, "request_id": request_id}
    typed = {k: (v.strip() or None) for k, v in values.items()}
    try:
        if not typed["title"]:
            raise FieldRefused("title", "title: say what the customer asked for", hint="in the customer's words")
        new = NewRequest(str(typed["title"]), typed["account"], typed["deal"], typed["by"], _when(at),
                         typed["certainty"], typed["feature"], typed["theme"], request_id=typed["request_id"])
        _check_theirs(seen, new)
        before = _request_row(seen, new.request_id)
        added = add_request(seen.full, new)
    except CadenceError as error:
        query = {"status": "", "theme": "", "period": "", "limit": 30}
        return _requests(request, seen, query, values=values, errors={_request_field(error): error.one_line()},
                         status=400)
    seen.audit("write", f"requests/{added.request_id}", before=before, after=added.as_dict())
    return RedirectResponse(f"/requests?added={added.request_id}", status_code=303)


def _check_theirs(seen: Viewer, new: NewRequest) -> None:
    """A manager links a request to their own team's deal and account only (others: refused beside the field)."""
    if seen.scope.kind == "all":
        return
    check_request_links(seen.full, account_id=new.account_id, opportunity_id=new.opportunity_id)  # exists at all
    for field, value in (("deal", new.opportunity_id), ("account", new.account_id)):
        try:
            if field == "deal":
                check_request_links(seen.ws, opportunity_id=value)
            else:
                check_request_links(seen.ws, account_id=value)
        except CadenceError:
            raise FieldRefused(field, f"{field} {value} is not your team's", hint=f"link a {field} of "
                               f"{', '.join(sorted(seen.scope.teams)) or 'your own'}") from None


def _request_row(seen: Viewer, request_id: str | None) -> dict[str, Any] | None:
    """The request as it stood before the entry (None when new)."""
    if request_id is None:
        return None
    rows = seen.full.warehouse.query("SELECT request_id, title, account_id, opportunity_id, status FROM "
                                     "feature_requests WHERE request_id = $1", (request_id,))
    keys = ("request_id", "title", "account_id", "opportunity_id", "status")
    return dict(zip(keys, rows[0], strict=True)) if rows else None


# -- themes --------------------------------------------------------------------------------------------------


@router.get("/requests/themes", include_in_schema=False)
@router.get("/requests/themes.json", summary="Themes by the dollars waiting on them (as `cadence requests themes`)")
def themes_page(request: Request, period: str | None = None, done: str | None = None,
                seen: Viewer = Depends(viewer("requests"))) -> Response:
    return _themes(request, seen, period or "", flash=f"Saved the {done}" if done in EDITS else None)


def _themes(request: Request, seen: Viewer, period: str, *, edit: str | None = None,
            values: dict[str, str] | None = None, errors: dict[str, str] | None = None, flash: str | None = None,
            status: int = 200) -> Response:
    found = theme_list(valuation_of(request, seen, period or None))
    if wants_json(request):
        return respond(request, "requests_themes.html", found, status_code=status)
    typed = {name: {f: "" for f in fields} for name, fields in EDITS.items()}
    if edit is not None and values is not None:
        typed[edit] = values
    return respond(request, "requests_themes.html", found, status_code=status, viewer=seen, period=period,
                   currency=seen.ws.currency, values=typed, errors={edit: errors or {}} if edit else {},
                   flash=flash, may_edit=_may_edit(seen))


def _may_edit(seen: Viewer) -> bool:
    return seen.may_write("requests") and seen.scope.kind == "all"


def _edit(request: Request, seen: Viewer, edit: str, values: dict[str, str],
          change: Callable[[], theme_entries.ThemeEdit]) -> Response:
    """Apply one theme edit (saved in themes.yml), its refusal beside the field; audited with before/after."""
    seen.require_write("requests")
    if not _may_edit(seen):
        raise AccessDenied("themes are the company's: only those who see every request edit them",
                           hint="ask an executive or an admin")
    before = theme_entries.load_theme_overrides(seen.full).as_dict()
    try:
        for field in EDITS[edit]:
            if not values[field].strip():
                raise FieldRefused(field, f"{field}: needed to {edit} a theme")
        made = change()
    except CadenceError as error:
        field = getattr(error, "field", None) or _edit_field(error, edit, values)
        return _themes(request, seen, "", edit=edit, values=values, errors={field: error.one_line()}, status=400)
    seen.audit("write", f"requests/themes/{edit}", before=before, after=made.overrides.as_dict())
    return RedirectResponse(f"/requests/themes?done={edit}", status_code=303)


def _edit_field(error: CadenceError, edit: str, values: dict[str, str]) -> str:
    """The field whose value the refusal names (else the first)."""
    fields = EDITS[edit]
    named = getattr(error, "name", None)
    for field in fields:
        if named is not None and values[field].strip() == named:
            return field
    reason = error.message.rsplit(":", 1)[-1]  # "… not applied: no request R9" names the value at fault last
    for field in reversed(fields):
        if values[field].strip() and values[field].strip() in reason:
            return field
    for field in fields:
        if values[field].strip() and repr(values[field].strip()) in error.message:
            return field
    return fields[0]


@router.post("/requests/themes/rename", include_in_schema=False)
def rename(request: Request, key: str = Form(""), name: str = Form(""),
           seen: Viewer = Depends(viewer("requests"))) -> Response:
    """Give a theme the name product uses for it."""
    return _edit(request, seen, "rename", {"key": key, "name": name},
                 lambda: theme_entries.rename_theme(seen.full, key.strip(), name.strip()))


@router.post("/requests/themes/merge", include_in_schema=False)
def merge(request: Request, key: str = Form(""), into: str = Form(""),
          seen: Viewer = Depends(viewer("requests"))) -> Response:
    """Merge one theme into another: both ask for the same thing."""
    return _edit(request, seen, "merge", {"key": key, "into": into},
                 lambda: theme_entries.merge_themes(seen.full, key.strip(), into.strip()))


@router.post("/requests/themes/split", include_in_schema=False)
def split(request: Request, key: str = Form(""), words: str = Form(""), name: str = Form(""),
          seen: Viewer = Depends(viewer("requests"))) -> Response:
    """Move the requests of a theme that mention given words into a new theme."""
    return _edit(request, seen, "split", {"key": key, "words": words, "name": name},
                 lambda: theme_entries.split_theme(seen.full, key.strip(), words, name.strip()))


@router.post("/requests/themes/pin", include_in_schema=False)
def pin(request: Request, request_id: str = Form("", alias="request"), theme: str = Form(""),
        seen: Viewer = Depends(viewer("requests"))) -> Response:
    """Put one request in a theme by hand, whatever its wording says."""
    return _edit(request, seen, "pin", {"request": request_id, "theme": theme},
                 lambda: theme_entries.pin_request(seen.full, request_id.strip(), theme.strip()))


@router.post("/requests/themes/unpin", include_in_schema=False)
def unpin(request: Request, request_id: str = Form("", alias="request"),
          seen: Viewer = Depends(viewer("requests"))) -> Response:
    """Let a pinned request's wording place it again."""
    return _edit(request, seen, "unpin", {"request": request_id},
                 lambda: theme_entries.unpin_request(seen.full, request_id.strip()))
