"""Errors about one field of a user form, so a web page can show the message beside the field it is about."""

from __future__ import annotations

from cadence.errors import InputError


class FieldError(InputError):
    """A value given for one field of a user (user_id, role, team, person_id, email, password) was refused.

    `field` names the field; `message` is a sentence that names it too, so the CLI's one red line reads well.
    """

    def __init__(self, field: str, message: str, *, hint: str | None = None):
        self.field = field
        super().__init__(message, hint=hint)
