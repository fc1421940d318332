"""Which storage errors fail an activity for good, and which stay retryable."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from asyncpg.exceptions import _base as asyncpg_base
from temporalio.exceptions import ApplicationError

from desk.storage_errors import CONFLICTING_DATA, UNSTORABLE_DATA, final_storage_errors

REFUSED_FOR_GOOD = {
    "NUL in text": (asyncpg.CharacterNotInRepertoireError, UNSTORABLE_DATA, "22021"),
    "NUL in jsonb": (asyncpg.UntranslatableCharacterError, UNSTORABLE_DATA, "22P05"),
    "out of range": (asyncpg.NumericValueOutOfRangeError, UNSTORABLE_DATA, "22003"),
    "any data exception": (asyncpg.DataError, UNSTORABLE_DATA, "22000"),
    "unique": (asyncpg.UniqueViolationError, CONFLICTING_DATA, "23505"),
    "check": (asyncpg.CheckViolationError, CONFLICTING_DATA, "23514"),
}


def _failing(error: BaseException) -> Callable[[], Awaitable[None]]:
    @final_storage_errors
    async def write() -> None:
        raise error

    return write


@pytest.mark.parametrize("case", REFUSED_FOR_GOOD)
async def test_data_and_constraint_errors_fail_for_good_in_the_databases_words(case: str) -> None:
    kind, error_type, sqlstate = REFUSED_FOR_GOOD[case]
    with pytest.raises(ApplicationError) as caught:
        await _failing(kind("the database's own words\nDETAIL: more"))()
    assert (caught.value.type, caught.value.non_retryable) == (error_type, True)
    assert caught.value.message == "the database's own words"
    assert caught.value.details == (sqlstate,)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg_base.DataError("invalid input for query argument $1: 'x' (expected int)"),
        UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
    ],
)
async def test_what_the_driver_cannot_encode_fails_for_good(error: Exception) -> None:
    with pytest.raises(ApplicationError) as caught:
        await _failing(error)()
    assert (caught.value.type, caught.value.non_retryable) == (UNSTORABLE_DATA, True)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.InterfaceError("connection is closed"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.SerializationError("could not serialize access"),
        ConnectionRefusedError(111, "Connection refused"),
        RuntimeError("a bug"),
    ],
)
async def test_anything_a_retry_may_fix_is_left_as_it_is(error: Exception) -> None:
    with pytest.raises(type(error)) as caught:
        await _failing(error)()
    assert caught.value is error


async def test_a_successful_write_answers_as_it_would_unwrapped() -> None:
    @final_storage_errors
    async def write(value: int, *, twice: bool) -> int:
        return value * 2 if twice else value

    assert await write(21, twice=True) == 42


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (
            "invalid input for query argument $1: '13912345678' (expected int)",
            "invalid input for query argument $1: '…' (expected int)",
        ),
        ('invalid input syntax for type integer: "欧阳娜娜"', "invalid input syntax for type integer: '…'"),
        (
            'null value in column "name" of relation "tickets" violates not-null constraint\n'
            "DETAIL:  Failing row contains (TK-1, 欧阳娜娜, 13912345678).",
            'null value in column "name" of relation "tickets" violates not-null constraint',
        ),
    ],
)
async def test_a_refusal_quotes_no_value_and_carries_not_the_drivers_words(words: str, message: str) -> None:
    """Its message, cause and stack go into Temporal's history and the worker's log."""
    with pytest.raises(ApplicationError) as caught:
        await _failing(asyncpg.DataError(words))()
    assert caught.value.message == message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
