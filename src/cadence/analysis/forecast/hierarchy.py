"""Who reports to whom, from `people.manager_id`, made safe to walk: every person has one place in a tree.

A manager the people table does not hold, and a loop of people managing each other, would make a roll-up
lose or double-count deals; instead the person is placed at the top and a note says why. A deal owner the
people table does not know (a bare CRM user id) is placed at the top too, named by their id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Hierarchy:
    """Each person's name and effective manager (None: at the top), and what had to be fixed to get there."""

    names: dict[str, str]
    manager: dict[str, str | None]
    notes: list[str] = field(default_factory=list)

    def reports(self, person_id: str) -> list[str]:
        """Direct reports, by name."""
        return sorted((p for p, m in self.manager.items() if m == person_id), key=lambda p: (self.names[p], p))

    def scope(self, person_id: str) -> set[str]:
        """The person and everyone whose chain of managers leads to them."""
        found, frontier = {person_id}, [person_id]
        while frontier:
            below = [r for boss in frontier for r in self.reports(boss) if r not in found]
            found.update(below)
            frontier = below
        return found

    def walk(self) -> list[tuple[str, int]]:
        """(person_id, depth) from the top down, each manager before their reports, reports by name."""
        roots = sorted((p for p, m in self.manager.items() if m is None), key=lambda p: (self.names[p], p))
        order: list[tuple[str, int]] = []
        stack = [(r, 0) for r in reversed(roots)]
        while stack:
            person, depth = stack.pop()
            order.append((person, depth))
            stack.extend((r, depth + 1) for r in reversed(self.reports(person)))
        return order


def build_hierarchy(people: pd.DataFrame, owners: Iterable[str] = ()) -> Hierarchy:
    """The tree of `people` (person_id, name, manager_id), with `owners` missing from it placed at the top."""
    rows = people.dropna(subset=["person_id"]).drop_duplicates("person_id")
    names = {str(p): str(n) if isinstance(n, str) and n else str(p) for p, n in zip(rows["person_id"], rows["name"],
                                                                                   strict=True)}
    manager: dict[str, str | None] = {}
    notes: list[str] = []
    for person, boss in zip(rows["person_id"], rows["manager_id"], strict=True):
        boss_id = str(boss) if isinstance(boss, str) and boss else None
        if boss_id is not None and boss_id not in names:
            notes.append(f"{names[str(person)]} ({person})'s manager {boss_id} is not in people: shown at the top")
            boss_id = None
        manager[str(person)] = boss_id
    _break_cycles(manager, names, notes)
    strangers = sorted({str(o) for o in owners if isinstance(o, str) and o} - set(names))
    for owner in strangers:
        names[owner], manager[owner] = owner, None
    if strangers:
        notes.append(f"{len(strangers):,} deal owners are not in people ({', '.join(strangers[:5])}"
                     f"{', …' if len(strangers) > 5 else ''}): each shown at the top under their id")
    return Hierarchy(names, manager, notes)


def _break_cycles(manager: dict[str, str | None], names: dict[str, str], notes: list[str]) -> None:
    """Everyone on a loop of managers is placed at the top (their reports stay under them)."""
    settled: set[str] = set()
    for start in manager:
        path: list[str] = []
        person: str | None = start
        while person is not None and person not in settled and person not in path:
            path.append(person)
            person = manager[person]
        if person is not None and person in path:
            loop = path[path.index(person):]
            for member in loop:
                manager[member] = None
            shown = ", ".join(f"{names[m]} ({m})" for m in loop)
            notes.append(f"{shown} manage each other in people.manager_id (a loop): each is shown at the top, "
                         "with their own reports under them")
        settled.update(path)
