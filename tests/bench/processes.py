"""Each desk process's memory and CPU time, by a name a reader knows ("temporal", "workflow worker")."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import psutil

from tests.stack import leftovers


def rss(data_dir: Path) -> dict[str, float]:
    """Resident memory of each desk process in MiB (PostgreSQL's backends share its memory: not added)."""
    return per_process(data_dir, lambda proc: proc.memory_info().rss / 2**20, children=False)


def cpu_seconds(data_dir: Path) -> dict[str, float]:
    """CPU time of each desk process, PostgreSQL's with its backends', which do its work."""
    return per_process(data_dir, lambda proc: sum(proc.cpu_times()[:2]), children=True)


def per_process(
    data_dir: Path, measure: Callable[[psutil.Process], float], *, children: bool
) -> dict[str, float]:
    table: dict[str, float] = {}
    replicas = replica_numbers(data_dir)
    for pid in leftovers(data_dir):
        try:
            proc = psutil.Process(pid)
            name = process_name(proc.cmdline()) + (f" #{replicas[pid]}" if pid in replicas else "")
            family = (
                [proc, *proc.children(recursive=True)] if children and name.startswith("postgres") else [proc]
            )
            table[name] = table.get(name, 0.0) + sum(measure(p) for p in family)
        except psutil.NoSuchProcess:
            continue
    return table


def process_name(cmd: list[str]) -> str:
    joined = " ".join(cmd)
    for marker, name in (("serve ", ""), (" worker", "workflow worker"), (" up", "helpdesk up")):
        if marker in joined:
            return name or "service " + joined.split("serve ", 1)[1].split()[0]
    for server in ("temporal", "nats-server", "postgres"):
        if server in joined:
            return server + (" (all backends)" if server == "postgres" else "")
    return Path(cmd[0]).name if cmd else "?"


def replica_numbers(data_dir: Path) -> dict[int, int]:
    """pid → k of the desk's second and later replicas ("intake-2", "worker-2", "nats-3": endpoints.json
    `processes`), whose command lines are their first's."""
    endpoints = data_dir / "endpoints.json"
    if not endpoints.exists():
        return {}
    processes: dict[str, int] = json.loads(endpoints.read_text()).get("processes", {})
    return {
        pid: int(number)
        for name, pid in processes.items()
        if (number := name.rpartition("-")[2]).isdigit() and int(number) > 1
    }
