"""Who may see what: roles decide the pages, scopes decide the rows — applied where queries are built.

`may_see(principal, "pipeline")` opens a page; `scoped(ws, scope_for(ws, principal))` is the workspace the
page reads, whose every table holds only the rows that principal may see.
"""

from cadence.access.roles import AREAS, Principal, may_see, may_write
from cadence.access.scope import AccessDenied, Scope, scope_for, scoped

__all__ = ["AREAS", "AccessDenied", "Principal", "Scope", "may_see", "may_write", "scope_for", "scoped"]
