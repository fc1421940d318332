"""Session-wide fixtures: the whole desk, started once, and a clean exit for the test process."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator

import pytest

from tests.stack import RunningDesk, running_desk

_EXIT_STATUS = pytest.StashKey[int]()


@pytest.fixture(scope="session")
async def desk(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningDesk]:
    """`helpdesk up` on free ports in a temporary directory, stopped with SIGINT at the end."""
    # A crashed intake's tickets are taken over after this lease (tests/integration/test_acceptance.py).
    async with running_desk(tmp_path_factory.mktemp("desk"), {"HELPDESK_PENDING_LEASE_SECONDS": "3"}) as desk:
        yield desk


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[_EXIT_STATUS] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave with os._exit once everything else is done: the summary line is printed by then.

    temporalio's runtime can abort the interpreter while it finalises (PyGILState_Release, exit 134),
    which would turn a green run red; os._exit skips finalisation and keeps pytest's own status.
    """
    status = config.stash.get(_EXIT_STATUS, None)
    if status is None:  # the session never ran (e.g. --help): nothing of temporalio was loaded
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
