"""Every metric the alert rules (deploy/prometheus/alerts.yml) name is served by the running desk.

tests/unit/test_alert_rules.py checks the names against desk/metrics.py's registry; this asks the
processes themselves, found as Prometheus finds them (the target files `helpdesk up` writes for
deploy/prometheus/prometheus.yml): their /metrics, their Temporal SDK's, and the embedded Temporal's.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from deploy.endpoints import SCRAPE_TARGETS_DIR
from tests.stack import RunningDesk
from tests.unit.test_alert_rules import parse, rules

ONLY_AFTER_A_FAILURE = {"temporal_request_failure_total", "temporal_long_request_failure_total"}
"""The Temporal SDK makes these series at the first failed call to the server (none on a healthy desk)."""
PROMETHEUS_OWN = {"up"}


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:
        text: str = answer.read().decode()
        return text


def series_names(text: str) -> set[str]:
    """The series names an exposition holds or announces: a family without samples yet (labelled,
    nothing counted) is announced by its TYPE line, as a counter's ``_total`` or a histogram's parts."""
    names = set()
    for family in text_string_to_metric_families(text):
        names |= {sample.name for sample in family.samples}
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type == "histogram":
            names |= {f"{family.name}_{part}" for part in ("bucket", "sum", "count")}
        else:
            names.add(family.name)
    return names


def discovered_targets(desk: RunningDesk) -> dict[tuple[str, str], str]:
    """What Prometheus would scrape (deploy/prometheus/prometheus.yml's file_sd_configs): the target
    files `helpdesk up` wrote, as (job, process) -> URL."""
    targets = {}
    for path in (desk.data_dir / SCRAPE_TARGETS_DIR).glob("*.json"):
        for group in json.loads(path.read_text()):
            (address,) = group["targets"]
            labels = group["labels"]
            targets[path.stem, labels["process"]] = f"http://{address}{labels['__metrics_path__']}"
    return targets


async def test_every_process_is_a_discovered_target_and_every_metric_an_alert_names_is_served(
    desk: RunningDesk,
) -> None:
    targets = discovered_targets(desk)
    assert targets == {
        **{("helpdesk", name): url for name, url in desk.endpoints["metrics"].items()},
        **{
            ("helpdesk-temporal-sdk", name): url
            for name, url in desk.endpoints["temporal_sdk_metrics"].items()
        },
        ("temporal", "temporal"): desk.endpoints["temporal_metrics"],
    }
    assert set(desk.endpoints["processes"]) >= {name for job, name in targets if job == "helpdesk"}
    texts = await asyncio.gather(*(asyncio.to_thread(_get, url) for url in targets.values()))  # each answers
    served = set().union(*(series_names(text) for text in texts))
    named = {selector.metric for rule in rules() for selector in parse(rule["expr"]).selectors}
    assert named - ONLY_AFTER_A_FAILURE - PROMETHEUS_OWN - served == set()
    assert "temporal_request_total" in served  # the SDK's endpoints were read (its counters' suffix)
