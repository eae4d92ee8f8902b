"""What `cadence serve` is started with: the workspace, how cookies are set, how long sessions last."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    workspace: Path
    secure_cookies: bool = False  # set behind HTTPS (or automatically when the request came over https)
    session_lifetime: timedelta = timedelta(hours=12)
    base_url: str | None = None  # where the app is reached, for links in deliveries
    idle_release_seconds: float = 2.0  # DuckDB: let go of the file when no request has used it for this long
    today: date | None = None  # `cadence --today` for every page (tests, rehearsals)
    cookie_name: str = "cadence_session"
