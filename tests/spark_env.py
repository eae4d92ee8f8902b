"""Whether this machine can run a local Apache Spark (pyspark installed, a Java runtime on PATH): tests on Spark
skip cleanly, naming what is missing, when it cannot."""

from __future__ import annotations

import importlib.util
import shutil

import pytest


def require_spark() -> None:
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("pyspark is not installed: pip install -e '.[dev]'")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime: apt-get install openjdk-17-jre-headless (make system-deps)")
