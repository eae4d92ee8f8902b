"""The tempo board: each team against what good looks like (what `cadence tempo` prints, with the HTML report's
trend chart), and the forms that feed it — set a target, log a shipment, record a gap review.

A manager writes for their own team only; an executive or an admin for any team; others may only look.
Every form calls the same entry function as the CLI and answers a refusal beside the field, nothing written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from cadence.analysis.tempo import DIAGNOSIS_RULE, PACE_RULE, TempoBoard
from cadence.analysis.tempo.as_of import board_on
from cadence.entries import record_review, record_shipment, set_target
from cadence.entries.tempo import CAUSES
from cadence.errors import CadenceError, InputError
from cadence.report.charts import to_svg
from cadence.report.sections.tempo import past_due_line, tempo_row
from cadence.report.tempo_charts import tempo_points, tempo_trend_spec
from cadence.web.deps import Viewer, settings_of, viewer
from cadence.web.pages import respond, wants_json
from cadence.web.results import kept

router = APIRouter(tags=["tempo"])
PERIODS = ("week", "month", "quarter")
FORMS: dict[str, tuple[str, ...]] = {
    "target": ("team", "deliverable", "count", "per", "size", "valid_from"),
    "shipment": ("team", "deliverable", "title", "shipped_at", "owner", "size", "link", "unplanned"),
    "review": ("team", "deliverable", "cause", "action", "owner", "due", "period", "size"),
}
DONE = {"target": "Target set", "shipment": "Shipment logged", "review": "Gap review recorded"}


def today_of(request: Request) -> date:
    """The calendar day entries are made on: the server's --today, else today."""
    return settings_of(request).today or date.today()


def board_of(request: Request, seen: Viewer) -> TempoBoard:
    """The board `cadence tempo` prints, on the viewer's rows (kept until the next entry)."""
    today = today_of(request)
    return kept(request, seen, ("tempo", today), lambda: board_on(seen.ws, seen.ws.calendar, today))


@router.get("/tempo", include_in_schema=False)
@router.get("/tempo.json", summary="Each team's current period against its tempo target (as `cadence tempo`)")
def tempo_page(request: Request, done: str | None = None, seen: Viewer = Depends(viewer("tempo"))) -> Response:
    return _page(request, seen, flash=DONE.get(done or ""))


def _page(request: Request, seen: Viewer, *, form: str | None = None, values: dict[str, str] | None = None,
          errors: dict[str, str] | None = None, flash: str | None = None, status: int = 200) -> Response:
    board = board_of(request, seen)
    if wants_json(request):
        return respond(request, "tempo.html", board, status_code=status)
    typed = {name: {f: "" for f in fields} for name, fields in FORMS.items()}
    typed["target"]["per"] = "month"
    if form is not None and values is not None:
        typed[form] = values
    chart = to_svg(tempo_trend_spec(board)) if tempo_points(board) else None
    return respond(request, "tempo.html", board, status_code=status, viewer=seen, rows=[tempo_row(r) for r in
                   board.rows], reviews=[r.as_dict() for r in board.reviews[:20]],
                   past_due=[past_due_line(r) for r in board.past_due], diagnosed=board.diagnosed(),
                   chart=chart, rules={"pace": PACE_RULE, "diagnosis": DIAGNOSIS_RULE}, values=typed,
                   errors={form: errors or {}} if form else {}, flash=flash, causes=CAUSES, periods=PERIODS,
                   teams=_writable_teams(seen), may_write=seen.may_write("tempo"))


def _writable_teams(seen: Viewer) -> list[str] | None:
    """The teams the viewer may write for (None: any)."""
    return None if seen.scope.kind == "all" else sorted(seen.scope.teams)


def _team_refused(seen: Viewer, team: str) -> str | None:
    """Why the viewer may not write for `team`, or None: a manager writes for their own team only."""
    allowed = _writable_teams(seen)
    if allowed is None or team.strip().casefold() in {t.casefold() for t in allowed}:
        return None
    return (f"{team.strip() or 'that team'} is not your team: you may write for "
            f"{', '.join(allowed) or 'no team'}")


def _write(request: Request, seen: Viewer, form: str, values: dict[str, str],
           entry: Callable[[], Any], target: str, before: Callable[[], Any]) -> Response:
    """Check the team, make the entry (refusals beside their field, nothing written), audit it, go back."""
    seen.require_write("tempo")
    refused = _team_refused(seen, values["team"])
    if refused:
        return _page(request, seen, form=form, values=values, errors={"team": refused}, status=400)
    try:
        prior = before()
        made = entry()
    except CadenceError as error:
        return _page(request, seen, form=form, values=values, errors={_field_of(error, form): error.one_line()},
                     status=400)
    seen.audit("write", target, before=prior, after=made.as_dict())
    return RedirectResponse(f"/tempo?done={form}#{form}", status_code=303)


class FieldRefused(InputError):
    """Input refused before the entry function ran, naming the form field."""

    def __init__(self, field: str, message: str, hint: str | None = None):
        self.field = field
        super().__init__(message, hint=hint)


def _field_of(error: CadenceError, form: str) -> str:
    """The form field a refusal is about: the field it names, else the one its message mentions."""
    named = getattr(error, "field", None) or getattr(error, "column", None)
    fields = FORMS[form]
    aliases = {"deliverable": "deliverable", "owner_id": "owner", "shipped_at": "shipped_at", "count": "count",
               "period": "period", "due": "due", "cause": "cause", "title": "title", "valid_from": "valid_from"}
    if named and aliases.get(str(named), str(named)) in fields:
        return aliases.get(str(named), str(named))
    text = error.message.lower()
    for word, field in (("team", "team"), ("person", "owner"), ("deliverable", "deliverable"),
                        ("tempo target", "deliverable"), ("period", "period")):
        if word in text and field in fields:
            return field
    return fields[1]


def _day(text: str, field: str, *, required: bool = True) -> date | None:
    """A date typed as YYYY-MM-DD (the CLI's rule), or None when left empty and not required."""
    if not text.strip():
        if required:
            raise FieldRefused(field, f"{field}: a date is needed", hint="write it as YYYY-MM-DD, e.g. 2026-02-15")
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise FieldRefused(field, f"{field}: not a date: {text!r}",
                           hint="write it as YYYY-MM-DD, e.g. 2026-02-15") from None


def _moment(text: str) -> datetime:
    """A shipment's time: a date (midnight UTC), a date and time, or now (as `cadence tempo ship --date`)."""
    if not text.strip():
        return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise FieldRefused("shipped_at", f"shipped at: not a date: {text!r}",
                           hint="write YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _count(text: str) -> int:
    """How many per period: a whole number, 0 or more (as `cadence tempo target set`)."""
    try:
        count = int(text.strip())
    except ValueError:
        raise FieldRefused("count", f"count: not a whole number: {text!r}", hint="e.g. 4") from None
    if count < 0:
        raise FieldRefused("count", f"count: {count} is not 0 or more", hint="how many per period, e.g. 4")
    return count


def _choice(text: str, field: str, allowed: tuple[str, ...]) -> str:
    if text.strip() not in allowed:
        raise FieldRefused(field, f"{field}: {text.strip() or '(empty)'!r} is not one of {', '.join(allowed)}",
                           hint=f"choose {' or '.join(allowed)}")
    return text.strip()


@router.post("/tempo/targets", include_in_schema=False)
def set_tempo_target(request: Request, team: str = Form(""), deliverable: str = Form(""), count: str = Form(""),
                     per: str = Form(""), size: str = Form(""), valid_from: str = Form(""),
                     seen: Viewer = Depends(viewer("tempo"))) -> Response:
    """Set a new version of a team's target (`cadence tempo target set`)."""
    values = {"team": team, "deliverable": deliverable, "count": count, "per": per, "size": size,
              "valid_from": valid_from}

    def entry() -> Any:
        if not deliverable.strip():
            raise FieldRefused("deliverable", "deliverable: say what the team ships", hint="e.g. launch or episode")
        return set_target(seen.full, team.strip(), deliverable.strip(), _count(count), _choice(per, "per", PERIODS),
                          valid_from=_day(valid_from, "valid_from", required=False), size=size.strip() or None,
                          today=today_of(request))

    def before() -> Any:
        return _versions(seen, team.strip(), deliverable.strip())

    return _write(request, seen, "target", values, entry, "tempo/targets", before)


def _versions(seen: Viewer, team: str, deliverable: str) -> list[dict[str, Any]]:
    rows = seen.full.warehouse.query("SELECT team, deliverable, count, period, size, valid_from FROM tempo_targets "
                                     "WHERE lower(team) = lower($1) AND deliverable = $2 ORDER BY valid_from",
                                     (team, deliverable))
    keys = ("team", "deliverable", "count", "period", "size", "valid_from")
    return [dict(zip(keys, r, strict=True)) for r in rows]


@router.post("/tempo/shipments", include_in_schema=False)
def log_shipment(request: Request, team: str = Form(""), deliverable: str = Form(""), title: str = Form(""),
                 shipped_at: str = Form(""), owner: str = Form(""), size: str = Form(""), link: str = Form(""),
                 unplanned: str = Form(""), seen: Viewer = Depends(viewer("tempo"))) -> Response:
    """Log a shipment by hand (`cadence tempo ship`)."""
    values = {"team": team, "deliverable": deliverable, "title": title, "shipped_at": shipped_at, "owner": owner,
              "size": size, "link": link, "unplanned": unplanned}

    def entry() -> Any:
        if not title.strip():
            raise FieldRefused("title", "title: say what shipped", hint="e.g. the episode's or launch's name")
        return record_shipment(seen.full, team.strip(), deliverable.strip(), title.strip(),
                               shipped_at=_moment(shipped_at), owner=owner.strip() or None,
                               size=size.strip() or None, link=link.strip() or None, unplanned=bool(unplanned))

    def before() -> Any:
        rows = seen.full.warehouse.query("SELECT shipment_id, title, shipped_at FROM shipments WHERE lower(team) = "
                                         "lower($1) AND deliverable = $2 AND title = $3",
                                         (team.strip(), deliverable.strip(), title.strip()))
        return [dict(zip(("shipment_id", "title", "shipped_at"), r, strict=True)) for r in rows] or None

    return _write(request, seen, "shipment", values, entry, "tempo/shipments", before)


@router.post("/tempo/reviews", include_in_schema=False)
def record_gap_review(request: Request, team: str = Form(""), deliverable: str = Form(""), cause: str = Form(""),
                      action: str = Form(""), owner: str = Form(""), due: str = Form(""), period: str = Form(""),
                      size: str = Form(""), seen: Viewer = Depends(viewer("tempo"))) -> Response:
    """Record the gap conversation (`cadence tempo review add`): the gap from the data, its cause, the action,
    its owner and due date."""
    values = {"team": team, "deliverable": deliverable, "cause": cause, "action": action, "owner": owner,
              "due": due, "period": period, "size": size}

    def entry() -> Any:
        chosen = _choice(cause, "cause", CAUSES)
        if not action.strip():
            raise FieldRefused("action", "action: say what will be done about the gap")
        if not owner.strip():
            raise FieldRefused("owner", "owner: someone owns the action", hint="a person id or name")
        day = _day(due, "due")
        assert day is not None
        return record_review(seen.full, team.strip(), deliverable.strip(), cause=chosen, action=action.strip(),
                             owner=owner.strip(), due=day, period=period.strip() or None,
                             size=size.strip() or None, today=today_of(request))

    return _write(request, seen, "review", values, entry, "tempo/reviews", lambda: None)
