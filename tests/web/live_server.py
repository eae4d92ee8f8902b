"""The web app on a real loopback port, for a real browser (tests/web/test_browser.py) and the load benchmark.

`live_server(root, workspace=ws)` starts `create_app(...)` under uvicorn in a background thread on 127.0.0.1,
on a port the system picks, and yields where it answers; leaving the block asks uvicorn to stop and waits for it.
A workspace handed in is shared with the caller (the demo fixture's open DuckDB connection) and left open.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cadence.workspace import Workspace


@dataclass(frozen=True)
class LiveServer:
    """A running server: `url` is its base address (no trailing slash)."""

    url: str
    port: int
    app: Any

    def at(self, path: str) -> str:
        return self.url + path


@contextmanager
def live_server(root: Path, *, workspace: Workspace | None = None, settings: Any = None,
                startup_seconds: float = 30.0) -> Iterator[LiveServer]:
    """Serve the workspace at `root` (sharing `workspace` when given) until the block ends."""
    import uvicorn

    from cadence.web.app import create_app
    from cadence.web.holder import WorkspaceHolder
    from cadence.web.settings import Settings

    settings = settings or Settings(workspace=root)
    holder = WorkspaceHolder(root, workspace=workspace, idle_release_seconds=settings.idle_release_seconds)
    app = create_app(settings, holder=holder)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))  # the port is ours from here on: no race with another process
    port = listener.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=5,
                            timeout_keep_alive=65)  # as `cadence serve`: the client closes idle connections first
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            server.run(sockets=[listener])
        except BaseException as error:  # handed to the caller, who waits for the start
            failure.append(error)

    thread = threading.Thread(target=serve, name=f"cadence-live-server-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_seconds
    while not server.started:
        if failure or not thread.is_alive():
            listener.close()
            raise RuntimeError(f"the live server did not start: {failure[0] if failure else 'it stopped'}")
        if time.monotonic() > deadline:
            server.should_exit = True
            listener.close()
            raise RuntimeError(f"the live server did not start within {startup_seconds:.0f} s")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", port, app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        listener.close()
        holder.close()
