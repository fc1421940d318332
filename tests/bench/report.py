"""What the benchmark prints: throughput, latency percentiles, ratio to baseline, memory per process."""

from __future__ import annotations

from tests.bench.drive import Drain, Phase, Rounds


def render(
    creates: list[tuple[Phase, Drain]],
    rounds: Rounds | None,
    rss: dict[str, float],
) -> str:
    lines = []
    for create, drain in creates:
        lines += [
            f"{create.name}: {create.count} tickets in {create.seconds:.1f} s ="
            f" {create.per_second:.0f} tickets/s, p50 {create.percentile(50) * 1000:.0f} ms,"
            f" p99 {create.percentile(99) * 1000:.0f} ms",
            _cpu(create),
            f"  opened by their workflows (routed, dispatched): {drain.opened} in {drain.seconds:.1f} s"
            f" from the first report = {drain.per_second:.1f}/s; {drain.backlog} were waiting when"
            " the reports stopped",
        ]
    if rounds is not None:
        lines += _lifecycle_lines(rounds)
    lines += [
        "RSS (MiB):",
        *(f"  {name:<28} {mib:8.1f}" for name, mib in sorted(rss.items())),
    ]
    return "\n".join(lines)


def _lifecycle_lines(rounds: Rounds) -> list[str]:
    lifecycle = Phase.combined(rounds.lifecycles)
    lines = [
        f"Lifecycle (create → accept → resolve → callback → closed): {lifecycle.count} in"
        f" {lifecycle.seconds:.1f} s = {lifecycle.per_second:.1f} tickets/s,"
        f" p50 {lifecycle.percentile(50) * 1000:.0f} ms, p99 {lifecycle.percentile(99) * 1000:.0f} ms",
        _cpu(lifecycle),
    ]
    for name, phases in (
        ("Baseline workflow (persist + publish, signal, persist + publish)", rounds.baselines),
        ("The same with the desk's worker tuning (no sandbox, its GC settings)", rounds.tuned),
    ):
        baseline = Phase.combined(phases)
        each = ", ".join(
            f"{lc.per_second / b.per_second:.0%}" for lc, b in zip(rounds.lifecycles, phases, strict=True)
        )
        lines += [
            f"{name}: {baseline.count} in {baseline.seconds:.1f} s = {baseline.per_second:.1f}/s",
            f"  lifecycle / it: {lifecycle.per_second / baseline.per_second:.0%}"
            f" ({len(phases)} alternating rounds: {each})",
        ]
    return lines


def _cpu(phase: Phase) -> str:
    """The busiest processes during the phase, as shares of one core."""
    busiest = sorted(phase.cpu.items(), key=lambda item: -item[1])[:5]
    return "  CPU meanwhile: " + ", ".join(f"{name} {share:.0%}" for name, share in busiest)
