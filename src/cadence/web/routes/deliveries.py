"""Deliveries: the archive of what was sent (admins), one message exactly as sent, and "send me a test".

The archive pages show the same rows as `cadence deliver log` and `cadence deliver show ID --format json`. A
message's HTML is shown in a sandboxed frame (no scripts, no forms, no same-origin access), as it was stored —
the bytes the mail server received; its inline charts travel as attachments (cid:) and are not shown here.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from cadence.delivery.archive import get_delivery, list_deliveries
from cadence.delivery.run import send_test
from cadence.errors import CadenceError
from cadence.web.deps import Viewer, viewer
from cadence.web.pages import html, respond

router = APIRouter(tags=["deliveries"])


@router.get("/admin/deliveries", include_in_schema=False)
@router.get("/admin/deliveries.json", summary="The archive of scheduled deliveries, newest first (admin)")
def deliveries(request: Request, limit: int = 100, schedule: str | None = None, recipient: str | None = None,
               seen: Viewer = Depends(viewer("admin"))) -> Response:
    rows = list_deliveries(seen.full, limit=max(1, min(limit, 1000)), schedule=schedule or None,
                           recipient=recipient or None)
    return respond(request, "deliveries.html", rows, viewer=seen, schedule=schedule or "",
                   recipient=recipient or "", limit=limit)


@router.get("/admin/deliveries/{delivery_id}", include_in_schema=False)
@router.get("/admin/deliveries/{delivery_id}.json", summary="One delivery with its bodies exactly as sent (admin)")
def delivery(request: Request, delivery_id: str, seen: Viewer = Depends(viewer("admin"))) -> Response:
    found = get_delivery(seen.full, delivery_id)
    return respond(request, "deliveries_show.html", found, viewer=seen)


def _test_page(request: Request, seen: Viewer, result: dict[str, Any] | None, error: str | None,
               channel: str) -> Response:
    return html(request, "deliveries_test.html", status_code=400 if error else 200, viewer=seen, result=result,
                error=error, channel=channel)


@router.post("/deliveries/test", include_in_schema=False)
def test_send(request: Request, channel: str = Form("email"), seen: Viewer = Depends(viewer("scorecard"))
              ) -> Response:
    """Send the signed-in person their own scorecard now (schedule "test"); the answer is shown on the page."""
    if channel not in ("email", "slack"):
        return _test_page(request, seen, None, f"unknown channel {channel!r}: email or slack", "email")
    if channel == "email" and not seen.user.email:
        return _test_page(request, seen, None, "you have no email address: ask an admin to add one", channel)
    try:
        (result,) = send_test(seen.full, seen.user, channel)
    except CadenceError as refused:
        return _test_page(request, seen, None, refused.one_line(), channel)
    seen.audit("send_test", f"deliveries/{result['delivery_id']}", after=result)
    if result["status"] != "sent":
        return _test_page(request, seen, result, result.get("error") or result["status"], channel)
    return _test_page(request, seen, result, None, channel)
