"""Whether this machine can run Apache Spark (pyspark installed, a Java runtime on PATH): tests on Spark skip
cleanly, naming what is missing, when it cannot.

For `sc://` and `spark://HOST:PORT` warehouses it also starts real servers on loopback from the pip package
itself (its `bin/spark-submit` and `bin/spark-class`, its jars: nothing is downloaded): a Spark Connect server,
or a standalone cluster's master and one worker. And since pyspark lets a process hold one kind of Spark only
(one local or cluster driver, or Spark Connect sessions), Cadence runs on those servers in a process of its own
(`Remote`), which keeps its workspaces open from one test to the next."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pytest

STARTUP_SECONDS = 90  # a JVM starting on a busy 2-core machine; a server not up by then has failed
CALL_SECONDS = 600  # one step of a test in the Cadence process (a bound, not a measure)
# the servers' JVMs (and the executors a worker starts) live for a minute over a few kilobytes of rows: compiling
# Spark's code with the JIT's quick tier only spends far less CPU than optimising it for hours of work
JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def require_spark() -> None:
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("pyspark is not installed: pip install -e '.[dev]'")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime: apt-get install openjdk-17-jre-headless (make system-deps)")


def require_spark_connect() -> None:
    """Spark, Spark Connect's Python client and the server's jar, which pyspark's wheel carries."""
    require_spark()
    missing = [name for module, name in (("grpc", "grpcio"), ("grpc_status", "grpcio-status"),
                                         ("google.rpc", "googleapis-common-protos"))
               if not _has_module(module)]
    if missing:
        pytest.skip(f"Spark Connect's client is not installed ({', '.join(missing)}): pip install -e '.[dev]'")
    if not list((spark_home() / "jars").glob("spark-connect_*.jar")):
        pytest.skip(f"pyspark's jars hold no Spark Connect server (spark-connect_*.jar in {spark_home() / 'jars'})")


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def spark_home() -> Path:
    """The pip package's folder: it is a Spark distribution (bin/, jars/) as well as the Python API."""
    spec = importlib.util.find_spec("pyspark")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations)))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPARK_", "PYSPARK_", "CADENCE"))}
    return env | {"SPARK_HOME": str(spark_home()), "SPARK_LOCAL_IP": "127.0.0.1", "JDK_JAVA_OPTIONS": JVM_OPTIONS,
                  "SPARK_LOCAL_DIRS": str(folder / "local"), "SPARK_LOG_DIR": str(folder / "logs"),
                  "SPARK_CONF_DIR": str(folder / "conf")}


def _end_with_parent() -> None:
    """In the server's process, before its launcher runs: Linux sends it SIGTERM should the test process die
    without stopping it (killed, timed out), so no JVM outlives the tests."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _start(command: list[str], folder: Path, log: Path) -> subprocess.Popen[bytes]:
    """A server in a process group of its own (its launcher, its JVM): stopped as a group at the end."""
    for sub in ("local", "logs", "conf"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=_environment(folder), cwd=folder, start_new_session=True,
                                preexec_fn=_end_with_parent)


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):  # anything the JVM started, should it outlive it
        os.killpg(process.pid, signal.SIGKILL)


def _wait_until(ready: Callable[[], bool], what: str, processes: list[subprocess.Popen[bytes]],
                log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while not ready():
        ended = [p for p in processes if p.poll() is not None]
        if ended or time.monotonic() > deadline:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            state = f"exited with status {ended[0].returncode}" if ended else f"not up after {STARTUP_SECONDS} s"
            raise RuntimeError(f"{what} {state}; the end of {log}:\n{tail}")
        time.sleep(0.5)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def spark_connect_server(folder: Path, settings: dict[str, str] | None = None) -> Iterator[str]:
    """A Spark Connect server (a local[2] Spark behind it) on a free loopback port; yields its `sc://` URL.
    `settings` are the server's own Spark settings, beside those it needs."""
    folder.mkdir(parents=True, exist_ok=True)
    port, jar = free_port(), next((spark_home() / "jars").glob("spark-connect_*.jar"))
    log = folder / "server.log"
    conf = {**(settings or {}), "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(port),
            "spark.sql.warehouse.dir": str(folder / "spark-warehouse"), "spark.ui.enabled": "false",
            "spark.driver.memory": "1g", "spark.local.dir": str(folder / "local"),
            "spark.driver.extraJavaOptions": f"-Dderby.system.home={folder}"}
    command = [str(spark_home() / "bin" / "spark-submit"), "--master", "local[2]",
               "--class", "org.apache.spark.sql.connect.service.SparkConnectServer", "--jars", str(jar)]
    for key, value in conf.items():
        command += ["--conf", f"{key}={value}"]
    server = _start(command, folder, log)
    try:
        _wait_until(lambda: _answers(port), "the Spark Connect server", [server], log)
        yield f"sc://127.0.0.1:{port}"
    finally:
        _stop(server)


@contextlib.contextmanager
def standalone_cluster(folder: Path) -> Iterator[str]:
    """A standalone cluster on loopback: a master and one worker (1 core, 1 GB); yields the master's URL once
    the worker has registered with it."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"spark://127.0.0.1:{port}"
    spark_class = str(spark_home() / "bin" / "spark-class")
    master_log, worker_log = folder / "master.log", folder / "worker.log"
    master = _start([spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                     "--port", str(port), "--webui-port", "0"], folder, master_log)
    worker = None
    try:
        _wait_until(lambda: _answers(port), "the standalone master", [master], master_log)
        worker = _start([spark_class, "org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1",
                         "--cores", "1", "--memory", "1g", "--webui-port", "0",
                         "--work-dir", str(folder / "work")], folder, worker_log)
        _wait_until(lambda: "Successfully registered with master" in worker_log.read_text(errors="replace"),
                    "the standalone worker", [master, worker], worker_log)
        yield url
    finally:
        if worker is not None:
            _stop(worker)
        _stop(master)


_OPEN: dict[str, Any] = {}  # in the Cadence process: its workspaces, by folder


def opened(root: Path) -> Any:
    """The workspace at `root`, opened once in the Cadence process and kept open for the next steps."""
    import cadence

    if str(root) not in _OPEN:
        _OPEN[str(root)] = cadence.open(root)
    return _OPEN[str(root)]


def forget(root: Path) -> None:
    """Close the workspace at `root` in the Cadence process (its next use opens it again, a new session)."""
    ws = _OPEN.pop(str(root), None)
    if ws is not None:
        ws.close()


def _close_all() -> None:
    for root in list(_OPEN):
        forget(Path(root))
    with contextlib.suppress(Exception):  # the driver of a cluster's application: its executors end with it
        from cadence.store import spark

        if spark._ROOT_SESSION is not None:
            spark._ROOT_SESSION.stop()


def _quick_jvm() -> None:
    os.environ["JDK_JAVA_OPTIONS"] = JVM_OPTIONS  # the driver's JVM, on a cluster (Spark Connect starts none)


class Remote:
    """Cadence in a process of its own (spawned: a fresh interpreter), kept for a module's tests. `run(f, …)`
    calls the module-level function `f` there and returns what it returns; its exceptions are raised here."""

    def __init__(self) -> None:
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"), initializer=_quick_jvm)

    def run(self, function: Callable[..., Any], *args: Any) -> Any:
        return self._pool.submit(function, *args).result(timeout=CALL_SECONDS)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.run(_close_all)
        self._pool.shutdown(wait=True)
