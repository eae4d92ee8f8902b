"""Counts in sentences, agreeing in number: what every analysis's notes and findings say about how many."""

from __future__ import annotations

__all__ = ["plural"]

_PLURAL_VERBS = {"has": "have", "is": "are", "was": "were", "does": "do", "waits": "wait", "shares": "share",
                 "points": "point", "moved": "moved"}


def plural(count: int, singular: str, plural_form: str | None = None, *, verb: str | None = None) -> str:
    """'1 opportunity', '3 opportunities'; with verb=('has'), '1 opportunity has', '3 opportunities have'."""
    noun = singular if count == 1 else (plural_form or singular + "s")
    text = f"{count:,} {noun}"
    if verb is not None:
        text += " " + (verb if count == 1 else _PLURAL_VERBS.get(verb, verb))
    return text
