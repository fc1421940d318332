"""Intake's bound on its backlog of accepted reports not opened yet."""

from __future__ import annotations

import pytest

from desk.errors import Overloaded
from services.intake.opening.admission import Admission


def test_reports_are_admitted_up_to_the_bound_then_refused_with_a_retry_delay() -> None:
    admission = Admission(3)
    for _ in range(3):
        with admission.admitted():
            pass
    with pytest.raises(Overloaded) as refused, admission.admitted():
        pass
    assert refused.value.retry_after == 5.0
    assert "3 accepted reports are waiting" in str(refused.value)
    assert admission.take_refused() == 1


def test_a_count_taken_while_a_report_is_being_stored_never_misses_it() -> None:
    admission = Admission(2)
    with admission.admitted():  # stored while the poller counts: the count may or may not see it
        started = admission.count_starts()
        admission.counted(0, started)  # it did not
    assert admission.backlog == 1
    with admission.admitted():
        pass
    with pytest.raises(Overloaded), admission.admitted():
        pass


def test_as_the_backlog_drains_reports_are_admitted_again() -> None:
    admission = Admission(2)
    admission.counted(2, admission.count_starts())
    with pytest.raises(Overloaded), admission.admitted():
        pass
    admission.counted(1, admission.count_starts())
    with admission.admitted():
        pass
    assert admission.backlog == 2
