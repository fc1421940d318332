"""Storage errors that no retry can fix, turned into non-retryable activity failures.

PostgreSQL refuses some data for good: text holding a NUL ("invalid byte sequence for encoding
UTF8: 0x00"), a value out of range (SQLSTATE class 22, data exception), a broken constraint (class
23); so does asyncpg for an argument it cannot encode. Every later attempt gets the same answer, so
under the ticket workflow's unbounded retry policy one such write would hold the ticket (and every
later change to it) for ever. The activities that use the database wear :func:`final_storage_errors`:
those errors leave them as ``ApplicationError(non_retryable=True)`` of one of the types below,
without the driver's class names; anything else (a lost connection, a server restarting) stays
retryable. The workflow turns these failures into a refusal of the change (workflows/ticket_steps.py).

A refusal carries no customer data: its message is the first line of the database's words with every
quoted value left out (``invalid input for query argument $1: '…'``; the names of constraints,
relations, columns and types stay), and the driver's error is not its cause, for the driver's text
goes on (PostgreSQL's DETAIL line: ``Failing row contains (…, 欧阳娜娜, 13912345678, …)``) and a
failure's message, cause and stack go into Temporal's history and the worker's log.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import asyncpg
from asyncpg.exceptions import _base as asyncpg_base
from temporalio.exceptions import ApplicationError

UNSTORABLE_DATA = "UnstorableData"
"""The data cannot be stored as it is (class 22, an encoding error): the caller must change it."""
CONFLICTING_DATA = "ConflictingData"
"""The data clashes with what is stored (class 23: a unique, foreign-key or check constraint)."""
STORAGE_REFUSALS = frozenset({UNSTORABLE_DATA, CONFLICTING_DATA})

_DATA_EXCEPTION, _INTEGRITY_VIOLATION = "22", "23"  # SQLSTATE classes

P = ParamSpec("P")
R = TypeVar("R")


def storage_refusal(error: BaseException) -> ApplicationError | None:
    """The non-retryable failure ``error`` amounts to, or None when a retry may succeed."""
    if isinstance(error, asyncpg.PostgresError):
        sqlstate = str(getattr(error, "sqlstate", "") or "")
        if sqlstate.startswith(_DATA_EXCEPTION):
            return _refusal(UNSTORABLE_DATA, error, sqlstate)
        if sqlstate.startswith(_INTEGRITY_VIOLATION):
            return _refusal(CONFLICTING_DATA, error, sqlstate)
        return None
    if isinstance(error, asyncpg_base.DataError | UnicodeError):  # refused before it left the process
        return _refusal(UNSTORABLE_DATA, error, "")
    return None


def final_storage_errors(activity: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Wrap an activity so that the errors a retry cannot fix fail it for good (see the module)."""

    @functools.wraps(activity)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await activity(*args, **kwargs)
        except Exception as error:
            refusal = storage_refusal(error)
            if refusal is None:
                raise
            raise refusal from None  # not the driver's error: its words may quote the data (see the module)

    return guarded


def _refusal(kind: str, error: BaseException, sqlstate: str) -> ApplicationError:
    """The database's own words (they name no Python class) without the values they quote, with its
    SQLSTATE as a detail."""
    message = _QUOTED.sub(_name_or_left_out, str(error).splitlines()[0]) if str(error) else ""
    return ApplicationError(message or "the data was refused", sqlstate, type=kind, non_retryable=True)


_NAMED = ("constraint", "relation", "column", "type", "table", "index", "encoding", "schema")
_QUOTED = re.compile(rf"""(?P<name>\b(?:{"|".join(_NAMED)}) "[^"]*")|"[^"]*"|'[^']*'""")
"""A quoted text: the name of a constraint, relation, column, … (kept), or a value (left out)."""


def _name_or_left_out(quoted: re.Match[str]) -> str:
    return quoted.group("name") or "'…'"
