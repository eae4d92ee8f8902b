"""`cadence serve`: the web app over this workspace (sign-in, roles, the weekly scorecard in the browser)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from cadence.cli.console import console
from cadence.cli.main import app, state
from cadence.cli.options import parse_day


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (127.0.0.1: this machine only).")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    secure_cookies: Annotated[bool, typer.Option(
        "--secure-cookies", help="Mark the session cookie Secure (set this behind an HTTPS proxy).")] = False,
    session_hours: Annotated[float, typer.Option("--session-hours", help="How long a sign-in lasts.")] = 12.0,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Where people reach the app (for links).")]
    = None,
) -> None:
    """Serve the web app: `cadence users add` someone first, then open http://HOST:PORT and sign in."""
    import uvicorn

    from cadence.web.app import create_app
    from cadence.web.settings import Settings

    workspace = state.workspace.expanduser().resolve()
    from cadence.workspace import open_workspace

    with open_workspace(workspace):  # a missing or newer workspace is said now, not on the first request
        pass
    today = parse_day(state.today, "--today") if state.today else None
    settings = Settings(workspace=workspace, secure_cookies=secure_cookies,
                        session_lifetime=timedelta(hours=session_hours), base_url=base_url, today=today)
    console.print(f"Cadence on http://{host}:{port} — workspace {workspace} (Ctrl+C stops it)")
    # keep idle connections longer than browsers and HTTP clients do (5 s in httpx), so the client always closes
    # first and never reuses a connection the server is closing at that moment
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", proxy_headers=secure_cookies,
                timeout_keep_alive=65)
