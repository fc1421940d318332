"""The alert rules (deploy/prometheus/alerts.yml) name only metrics the desk exports, with labels those
metrics have; each rule has its section in docs/runbook.md and each section its rule; the example
scrape config (deploy/prometheus/prometheus.yml) scrapes every process `helpdesk up` runs, replicas
included, from the target files it writes.

An alert on a metric that does not exist never fires, and nothing says so: Prometheus evaluates the
expression to nothing. So the names are checked against what the desk's processes really serve:
desk/metrics.py's families as exposed (a counter's ``_total``, a histogram's ``_bucket``, ``_sum``,
``_count``), prometheus-client's process collector, and the few others listed in :data:`EXTERNAL`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase

from deploy.endpoints import SCRAPE_TARGETS_DIR, Endpoints, EndpointsFile
from desk import metrics
from desk.config import (
    DEFAULT_METRICS_PORTS,
    HTTP_GATEWAY,
    SERVICES,
    load_settings,
    worker_names,
)

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
SCRAPE_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
RUNBOOK = ROOT / "docs" / "runbook.md"

TARGET_LABELS = frozenset({"job", "instance", "process"})
"""Labels every scraped series has: Prometheus's job and instance, and the scrape config's process."""

EXTERNAL: dict[str, frozenset[str]] = {
    # Prometheus's own, per scrape target.
    "up": frozenset(),
    # The Temporal SDK's (its Prometheus endpoint, `_total` suffix on): failed calls to the server,
    # short ones and long ones (polls, update-with-start). A series exists once a call failed; seen on
    # the workers' and intake's SDK endpoints while the embedded Temporal was stopped (SIGSTOP).
    **dict.fromkeys(
        ["temporal_request_failure_total", "temporal_long_request_failure_total"],
        frozenset({"namespace", "operation", "service_name", "status_code", "task_queue"}),
    ),
}
"""Metrics the rules may name that desk/metrics.py does not define, with their labels."""

PROMQL_FUNCTIONS = frozenset(
    {
        "abs", "absent", "absent_over_time", "avg_over_time", "ceil", "changes", "clamp", "clamp_max",
        "clamp_min", "count_over_time", "delta", "deriv", "floor", "histogram_quantile", "idelta",
        "increase", "irate", "label_replace", "last_over_time", "max_over_time", "min_over_time",
        "predict_linear", "quantile_over_time", "rate", "resets", "round", "scalar", "sort",
        "sum_over_time", "time", "timestamp", "vector",
    }
)  # fmt: skip
AGGREGATIONS = frozenset(
    {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
     "quantile"}
)  # fmt: skip
GROUPING = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
BINARY_KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "inf", "nan"})
SEVERITIES = frozenset({"critical", "warning", "info"})

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
      | (?P<matchers>\{(?:"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|[^}"'])*\})
      | (?P<range>\[[^\]]*\])
      | (?P<duration>\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*\b)
      | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<name>[A-Za-z_:][A-Za-z0-9_:]*)
      | (?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)
_MATCHER = re.compile(
    r"""([A-Za-z_][A-Za-z0-9_]*) \s* (?:=~|!~|!=|=) \s* (?:"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')""", re.VERBOSE
)


@dataclass(frozen=True)
class Selector:
    metric: str
    labels: frozenset[str]


@dataclass(frozen=True)
class Expression:
    selectors: tuple[Selector, ...]
    functions: frozenset[str]
    grouping_labels: frozenset[str]


def parse(expr: str) -> Expression:
    """The metric selectors, function calls and grouping labels of a PromQL expression. Not a full
    parser: enough for rule files, where every name is a metric, a function, or a keyword."""
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(expr) if m.lastgroup != "space"]
    selectors: list[Selector] = []
    functions: set[str] = set()
    grouping: set[str] = set()
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else (None, "")
        if kind == "matchers":
            raise AssertionError(f"a selector without a metric name: {text}")
        if kind != "name" or text in BINARY_KEYWORDS:
            i += 1
        elif text in GROUPING:
            i, labels = _label_list(tokens, i + 1)
            grouping |= labels
        elif text in AGGREGATIONS or following[1] == "(":
            functions.add(text)
            i += 1
        elif following[0] == "matchers":
            labels = frozenset(m.group(1) for m in _MATCHER.finditer(following[1]))
            selectors.append(Selector(text, labels))
            i += 2
        else:
            selectors.append(Selector(text, frozenset()))
            i += 1
    return Expression(tuple(selectors), frozenset(functions), frozenset(grouping))


def _label_list(tokens: list[tuple[str | None, str]], start: int) -> tuple[int, frozenset[str]]:
    """The labels of ``by (a, b)``: the index after its closing parenthesis, and the names."""
    assert tokens[start][1] == "(", "a grouping keyword without its label list"
    end = next(i for i in range(start, len(tokens)) if tokens[i][1] == ")")
    return end + 1, frozenset(text for kind, text in tokens[start + 1 : end] if kind == "name")


def exported() -> dict[str, frozenset[str]]:
    """Each series name the desk's processes serve, with its labels (scrape-target labels aside)."""
    defined = {
        metric._name: frozenset(metric._labelnames)  # prometheus-client keeps them private
        for metric in vars(metrics).values()
        if isinstance(metric, MetricWrapperBase)
    }
    series: dict[str, frozenset[str]] = dict(EXTERNAL)
    for family in REGISTRY.collect():
        labels = defined.get(family.name) or frozenset(k for s in family.samples for k in s.labels)
        if family.type == "counter":
            series[f"{family.name}_total"] = labels
        elif family.type == "histogram":
            series[f"{family.name}_bucket"] = labels | {"le"}
            series.update({f"{family.name}_sum": labels, f"{family.name}_count": labels})
        elif family.type == "gauge":
            series[family.name] = labels
    return series


def problems(expr: str, series: dict[str, frozenset[str]]) -> list[str]:
    """What is wrong with a rule's expression: unknown metrics, labels, functions."""
    parsed = parse(expr)
    found = []
    for selector in parsed.selectors:
        if selector.metric not in series:
            found.append(f"no such metric: {selector.metric}")
        elif unknown := selector.labels - series[selector.metric] - TARGET_LABELS:
            found.append(f"{selector.metric} has no label {sorted(unknown)}")
    known_labels = TARGET_LABELS.union(*(series.get(s.metric, frozenset()) for s in parsed.selectors))
    if unknown := parsed.grouping_labels - known_labels:
        found.append(f"grouped by labels none of its metrics has: {sorted(unknown)}")
    if unknown := parsed.functions - PROMQL_FUNCTIONS - AGGREGATIONS:
        found.append(f"no such function: {sorted(unknown)}")
    if not parsed.selectors:
        found.append("names no metric")
    return found


def rules() -> list[dict[str, Any]]:
    loaded = yaml.safe_load(RULES.read_text())
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def alert_sections() -> list[str]:
    """The headings of the runbook's alert sections: the ``###`` headings under ``## Alerts``."""
    text = RUNBOOK.read_text()
    start = text.index("\n## Alerts\n")
    following = text.find("\n## ", start + 1)
    return re.findall(r"^### (.+?)\s*$", text[start : following if following > 0 else None], re.MULTILINE)


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def rule_ids() -> Iterator[str]:
    return (rule["alert"] for rule in rules())


@pytest.mark.parametrize("rule", rules(), ids=list(rule_ids()))
def test_each_rule_names_metrics_and_labels_the_desk_exports(rule: dict[str, Any]) -> None:
    assert problems(rule["expr"], exported()) == []


@pytest.mark.parametrize("rule", rules(), ids=list(rule_ids()))
def test_a_rule_naming_a_metric_that_does_not_exist_is_caught(rule: dict[str, Any]) -> None:
    """Each rule's expression really is checked: misspell its first metric and the check fails."""
    first = parse(rule["expr"]).selectors[0].metric
    misspelt = re.sub(rf"\b{re.escape(first)}\b", f"{first}_typo", rule["expr"], count=1)
    assert f"no such metric: {first}_typo" in problems(misspelt, exported())


MISTAKES = [
    ("helpdesk_intake_backlog_age_seconds > 60", "no such metric: helpdesk_intake_backlog_age_seconds"),
    ("rate(helpdesk_tickets_opened[5m]) > 0", "no such metric: helpdesk_tickets_opened"),
    (
        "helpdesk_outbox_unpublished_events_bucket > 0",
        "no such metric: helpdesk_outbox_unpublished_events_bucket",
    ),
    ('helpdesk_consumer_pending_messages{team="a"} > 0', "helpdesk_consumer_pending_messages has no label"),
    ("max by (outbx) (helpdesk_outbox_unpublished_events) > 1", "grouped by labels none of its metrics has"),
    ("rates(helpdesk_tickets_opened_total[5m]) > 0", "no such function: ['rates']"),
    ("changes(process_start_time[15m]) > 3", "no such metric: process_start_time"),
]
"""A misspelt name, a counter without its _total, a gauge read as a histogram, a label the metric lacks,
a grouping label none has, a misspelt function."""


@pytest.mark.parametrize(("expr", "problem"), MISTAKES)
def test_mistakes_an_author_makes_are_caught(expr: str, problem: str) -> None:
    assert any(found.startswith(problem) for found in problems(expr, exported()))


def test_the_parser_tells_metrics_from_functions_keywords_labels_and_durations() -> None:
    parsed = parse(
        'histogram_quantile(0.99, sum by (le, kind) (rate(a_bucket{kind=~"R.*", x!="}"}[5m])))'
        " > 5 and on() b offset 30m or vector(0) unless max without (z) (c_total[1d:1m])"
    )
    assert [s.metric for s in parsed.selectors] == ["a_bucket", "b", "c_total"]
    assert parsed.selectors[0].labels == {"kind", "x"}
    assert parsed.functions == {"histogram_quantile", "sum", "rate", "vector", "max"}
    assert parsed.grouping_labels == {"le", "kind", "z"}


def test_every_rule_says_how_bad_and_where_its_runbook_section_is() -> None:
    names = list(rule_ids())
    assert len(names) == len(set(names)), "alert names are unique"
    sections = {anchor(heading): heading for heading in alert_sections()}
    for rule in rules():
        assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
        page, _, fragment = rule["annotations"]["runbook_url"].partition("#")
        assert page == "docs/runbook.md", rule["alert"]
        assert sections.get(fragment) == rule["alert"], f"{rule['alert']}: no section #{fragment}"
        if "for" in rule:
            assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]


def test_every_runbook_section_is_an_alert_s() -> None:
    assert sorted(alert_sections()) == sorted(rule_ids())


def test_the_scrape_config_loads_the_rules_and_discovers_the_targets_up_writes(tmp_path: Path) -> None:
    config = yaml.safe_load(SCRAPE_CONFIG.read_text())
    assert [SCRAPE_CONFIG.parent / path for path in config["rule_files"]] == [RULES]
    files = {
        job["job_name"]: [
            (SCRAPE_CONFIG.parent / path).resolve() for sd in job["file_sd_configs"] for path in sd["files"]
        ]
        for job in config["scrape_configs"]
    }
    settings = load_settings({"HELPDESK_REPLICAS": "2", "HELPDESK_DATA_DIR": str(tmp_path)})
    endpoints = Endpoints("t", None, "n", "p", {}, temporal_metrics="http://127.0.0.1:19233/metrics")
    processes = [name for process in (*SERVICES, HTTP_GATEWAY) for name in settings.replicas_of(process)]
    endpoints.add_metrics(settings, [*processes, *worker_names(settings.workflow_workers)])
    EndpointsFile(settings.endpoints_file, endpoints).publish()
    written = {path.stem: path for path in (tmp_path / SCRAPE_TARGETS_DIR).glob("*.json")}
    # The scrape config reads the default data directory's files, one per job, named for the job.
    assert files == {job: [(ROOT / ".data" / SCRAPE_TARGETS_DIR / f"{job}.json")] for job in written}

    def discovered(job: str) -> dict[str, str]:
        groups = json.loads(written[job].read_text())
        return {group["labels"]["process"]: "".join(group["targets"]) for group in groups}

    assert discovered("helpdesk") == {
        name: url.removeprefix("http://").removesuffix("/metrics") for name, url in endpoints.metrics.items()
    }
    assert {"intake-2", "http-2", "worker", "worker-2"} <= set(discovered("helpdesk"))
    assert discovered("helpdesk")["intake-2"] == f"127.0.0.1:{DEFAULT_METRICS_PORTS['intake'] + 1000}"
    assert set(discovered("helpdesk-temporal-sdk")) == set(discovered("helpdesk")) - {HTTP_GATEWAY, "http-2"}
    assert discovered("temporal") == {"temporal": "127.0.0.1:19233"}
