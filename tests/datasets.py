"""Where tests find real datasets: tests/data first (copied where the licence allows), then ../shared/data.

A clone with no ../shared beside it still passes: a test whose dataset may not be copied into the
repository (tests/data/PROVENANCE.md says which and why) is skipped there, never failed, and the
run ends by saying how many such tests ran and how many were skipped (conftest's terminal summary).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEST_DATA = REPO / "tests" / "data"
SHARED_DATA = REPO.parent / "shared" / "data"
NEEDS_SHARED = "needs ../shared/data"  # how a skip for want of it begins

Dataset = Callable[[str], Path]  # the `dataset` fixture: dataset("maven-crm/sales_pipeline.csv") -> Path


@dataclass
class SharedDataUse:
    """Which tests read a dataset found only in ../shared/data, directly or through a fixture."""

    fixtures_being_set_up: list[tuple[str, str]] = field(default_factory=list)  # (name, baseid), innermost last
    running: list[str] = field(default_factory=list)  # the test being run (node id)
    fixtures: set[tuple[str, str]] = field(default_factory=set)
    tests: set[str] = field(default_factory=set)
    outcomes: dict[str, set[str]] = field(default_factory=lambda: {"ran": set(), "skipped": set()})

    def record(self) -> None:
        """The fixture being set up read ../shared/data, else the running test did."""
        if self.fixtures_being_set_up:
            self.fixtures.add(self.fixtures_being_set_up[-1])
        elif self.running:
            self.tests.add(self.running[-1])

    def read_by(self, nodeid: str, fixturenames: list[str] | tuple[str, ...]) -> bool:
        """Whether the test (or a fixture it uses, from its module or a conftest above it) read ../shared/data."""
        names = set(fixturenames)
        return nodeid in self.tests or any(
            name in names and nodeid.startswith(baseid) for name, baseid in self.fixtures)


USE = SharedDataUse()


def find_dataset(name: str) -> Path:
    """`name` ("maven-crm", "maven-crm/sales_pipeline.csv") in tests/data, else ../shared/data, else skip."""
    copied = TEST_DATA / name
    if copied.exists():
        return copied
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{NEEDS_SHARED}: {name} may not be copied into tests/data (tests/data/PROVENANCE.md) "
                    f"and {SHARED_DATA} is absent")
    shared = SHARED_DATA / name
    if not shared.exists():
        pytest.fail(f"{name} is in neither {TEST_DATA} nor {SHARED_DATA}")
    USE.record()
    return shared


def shared_folder() -> Path:
    """../shared/data itself, for a test that needs the whole folder; skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{NEEDS_SHARED}: {SHARED_DATA} is absent")
    USE.record()
    return SHARED_DATA
