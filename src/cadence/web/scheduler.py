"""The scheduler inside `cadence serve`: once a minute, the CRM syncs `cadence sync --due` would run, then what
`cadence deliver --due` would send.

A daemon thread started with the app. Each minute it reads cadence.yml; when there is a `delivery:` block it
takes the workspace through the server's holder (one user of the workspace at a time, like any request) and
sends what is due. Running it beside a system cron job or a second server is safe: each message is claimed in
the warehouse before it is sent, so the first to claim a slot sends it and the others find it taken.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from cadence.errors import CadenceError
from cadence.web.holder import WarehouseBusy, WorkspaceHolder

__all__ = ["DeliveryScheduler"]

log = logging.getLogger("cadence.delivery")


class DeliveryScheduler:
    """Calls `deliver_due` every `interval` seconds (a minute) while the app runs, when delivery is configured."""

    def __init__(self, holder: WorkspaceHolder, *, interval: float = 60.0):
        self.holder = holder
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_run: list[dict[str, Any]] = []
        self.last_syncs: list[dict[str, Any]] = []

    def configured(self) -> bool:
        """Whether cadence.yml has a `delivery:` block or a CRM synced on a `cron:` (read afresh, so an edit takes
        effect without a restart)."""
        from cadence.config import load_config

        try:
            config = load_config(self.holder.root)
        except CadenceError:
            return False
        return config.delivery is not None or any(getattr(config.sources, name).cron
                                                  for name in config.sources.configured())

    def run_once(self) -> list[dict[str, Any]]:
        """One tick: run the due syncs, then send what is due; nothing when neither is configured or an import
        holds the warehouse."""
        if not self.configured():
            return []
        from cadence.delivery.run import deliver_due
        from cadence.sync import sync_due

        try:
            with self.holder.use() as ws:
                self.last_syncs = sync_due(ws)
                for result in self.last_syncs:
                    log.info("scheduled sync of %s: %s %s", result["source"], result["status"],
                             result.get("message") or "")
                if any(result["status"] != "failed" for result in self.last_syncs):
                    self._prepare(ws)
                if ws.config.delivery is None:  # the workspace was opened before the block was added
                    return []
                self.last_run = deliver_due(ws)
        except WarehouseBusy:
            return []
        sent = [r for r in self.last_run if r["status"] not in ("duplicate",)]
        if sent:
            log.info("scheduled delivery: %s", ", ".join(f"{r['recipient']}/{r['channel']} {r['status']}"
                                                         for r in sent))
        return self.last_run

    @staticmethod
    def _prepare(ws: Any) -> None:
        """After a sync, this week's scorecard computed and kept while nobody waits for it (`prepare_scorecard`);
        a failure is logged, and the first reader computes it instead."""
        from cadence.report.scorecard import prepare_scorecard

        try:
            prepare_scorecard(ws)
        except CadenceError as error:
            log.info("this week's scorecard not prepared after the sync: %s", error.one_line())

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="cadence-delivery", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self._until_next_tick()):
            try:
                self.run_once()
            except Exception:  # a bad tick must not end the scheduler; the next minute tries again
                log.exception("scheduled delivery failed; trying again in a minute")

    def _until_next_tick(self) -> float:
        """Seconds to the start of the next interval (a minute: just after hh:mm:00), so slots go out on time."""
        return self.interval - time.time() % self.interval + 1.0 if self.interval >= 60 else self.interval
