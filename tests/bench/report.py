"""What the benchmark prints: throughput, latency percentiles, ratio to baseline, memory per process."""

from __future__ import annotations

from tests.bench.drive import Phase


def render(create: Phase, lifecycle: Phase, baseline: Phase, rss: dict[str, float]) -> str:
    ratio = lifecycle.per_second / baseline.per_second
    lines = [
        f"CreateTicket: {create.count} tickets in {create.seconds:.1f} s = {create.per_second:.0f} tickets/s,"
        f" p50 {create.percentile(50) * 1000:.0f} ms, p99 {create.percentile(99) * 1000:.0f} ms",
        f"Lifecycle (create → accept → resolve → callback → closed): {lifecycle.count} in"
        f" {lifecycle.seconds:.1f} s = {lifecycle.per_second:.1f} tickets/s,"
        f" p50 {lifecycle.percentile(50) * 1000:.0f} ms, p99 {lifecycle.percentile(99) * 1000:.0f} ms",
        f"Baseline workflow (persist + publish, signal, persist + publish): {baseline.count} in"
        f" {baseline.seconds:.1f} s = {baseline.per_second:.1f}/s",
        f"Lifecycle / baseline: {ratio:.0%}",
        "RSS (MiB):",
        *(f"  {name:<28} {mib:8.1f}" for name, mib in sorted(rss.items())),
    ]
    return "\n".join(lines)
