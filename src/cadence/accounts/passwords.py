"""Passwords: the rules a new one must meet, and its argon2id hash (argon2-cffi's default `PasswordHasher`).

Only hashes reach the warehouse. Verifying against an unknown user still spends one verification, against a
dummy hash, so how long a failed sign-in takes does not tell anyone which user names exist.
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from cadence.accounts.errors import FieldError

MIN_LENGTH = 10
_hasher = PasswordHasher()


def check_password(password: str, user_id: str) -> None:
    """Refuse a password that is too short or is the user's own name."""
    if len(password) < MIN_LENGTH:
        raise FieldError("password", f"password must be at least {MIN_LENGTH} characters long",
                         hint="a few unrelated words make a long password that is easy to remember")
    if password.strip().casefold() == user_id.casefold():
        raise FieldError("password", "password must not be the user id")


def hash_password(password: str) -> str:
    """The argon2id hash to store (`$argon2id$…`)."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches the stored hash; with no hash (unknown user, OpenID-only user) it spends the
    same work on a dummy hash and answers False."""
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether the hash was made with weaker parameters than today's defaults."""
    return _hasher.check_needs_rehash(stored)


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("cadence: no such user, same work")
