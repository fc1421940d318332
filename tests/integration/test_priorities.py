"""`helpdesk up` shares one machine's CPU: the services first, then Temporal, then the workflow workers.

CreateTicket answers without Temporal or the workers (tickets are opened behind the answer), so under
a burst of reports the processes that open the backlog must not take the CPU intake answers with.
"""

from __future__ import annotations

import os
from pathlib import Path

from deploy.processes import find_binary
from tests.stack import RunningDesk, leftovers


def _nice(pid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, pid)


def _temporal_pid(desk: RunningDesk) -> int:
    binary = find_binary("temporal").encode()
    return next(
        pid
        for pid in leftovers(desk.data_dir)
        if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(binary + b"\0server\0start-dev")
    )


async def test_temporal_and_the_workers_yield_the_cpu_to_the_services(desk: RunningDesk) -> None:
    services = [_nice(desk.pid(name)) for name in ("intake", "dispatch", "survey")]
    workers = [_nice(desk.pid(name)) for name in ("worker", "worker-2")]
    assert (services, _nice(_temporal_pid(desk)), workers) == ([0, 0, 0], 10, [19, 19])
