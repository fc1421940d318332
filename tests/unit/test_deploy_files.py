"""The deployment files in deploy/ (deploy/README.md), checked offline: the Kubernetes manifests against
the Kubernetes schemas (kubernetes-validate, strict: an unknown field is an error), the Compose file
against the Compose Specification's schema (vendored in deploy/compose/schema/), every `helpdesk`
command line the files run through the command line's own parser, and every environment variable they
give the desk's containers against what the desk reads."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import opentelemetry.sdk.environment_variables as otel_variables
import pytest
import yaml

from cli.main import build_parser
from desk import config
from desk.config import HTTP_GATEWAY, SERVICES, WORKER, load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "container" / "Dockerfile"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
COMPOSE_SCHEMA = DEPLOY / "compose" / "schema" / "compose-spec.json"
MANIFESTS = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
KUBERNETES_VERSION = "1.33"  # the oldest release the manifests promise to apply on (deploy/README.md)
IMAGE = "helpdesk"
PROCESS_ENVIRONMENT = frozenset({"PATH", "PYTHONUNBUFFERED"})
"""Read by the operating system and the interpreter, not the desk: the image sets them for every process."""


# --- reading the files -----------------------------------------------------------------------------


def manifests() -> list[dict[str, Any]]:
    return [doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the final stage, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    instructions = [(word.upper(), rest.strip()) for word, _, rest in (line.partition(" ") for line in lines)]
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last_from:]


def is_desk_image(image: str) -> bool:
    return image.rpartition("/")[2].partition(":")[0] == IMAGE


def compose_desk_services() -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose()["services"].items() if is_desk_image(s["image"])}


def kubernetes_desk_containers() -> Iterator[tuple[str, dict[str, Any]]]:
    for doc in manifests():
        template = doc.get("spec", {}).get("template", {}).get("spec", {})
        for container in template.get("containers", []):
            if is_desk_image(container["image"]):
                yield doc["metadata"]["name"], container


def desk_command_lines() -> dict[str, list[str]]:
    """Every command line a file runs `helpdesk` with, by where it is."""
    lines = {f"compose {name}": list(s["command"]) for name, s in compose_desk_services().items()}
    lines.update({f"kubernetes {name}": list(c["args"]) for name, c in kubernetes_desk_containers()})
    cmd = dict(dockerfile_instructions())["CMD"]
    lines["Dockerfile CMD"] = json.loads(cmd)
    return lines


def environment_set() -> dict[str, set[str]]:
    """Each variable the files give a desk container, and where."""
    found: dict[str, set[str]] = {}

    def add(names: Iterator[str] | list[str], where: str) -> None:
        for name in names:
            found.setdefault(name, set()).add(where)

    for word, rest in dockerfile_instructions():
        if word == "ENV":
            add([pair.partition("=")[0] for pair in shlex.split(rest)], "Dockerfile")
    for name, service in compose_desk_services().items():
        add(list(service.get("environment") or {}), f"compose {name}")
    config_maps = {d["metadata"]["name"]: d for d in manifests() if d["kind"] == "ConfigMap"}
    for name, container in kubernetes_desk_containers():
        add([e["name"] for e in container.get("env", [])], f"kubernetes {name}")
        for source in container.get("envFrom", []):
            add(list(config_maps[source["configMapRef"]["name"]]["data"]), f"kubernetes {name}")
    return found


def service_environments() -> dict[str, dict[str, str]]:
    """What each gRPC service's container is given, by where: the image's ENV, then the file's."""
    image: dict[str, str] = {}
    for word, rest in dockerfile_instructions():
        if word == "ENV":
            image.update(pair.partition("=")[::2] for pair in shlex.split(rest))
    found = {}
    for name, service in compose_desk_services().items():
        if name in SERVICES:
            given = {key: str(value) for key, value in service["environment"].items()}
            found[f"compose {name}"] = image | given
    config_maps = {d["metadata"]["name"]: d["data"] for d in manifests() if d["kind"] == "ConfigMap"}
    for name, container in kubernetes_desk_containers():
        if name in SERVICES:
            given = dict(image)
            for source in container.get("envFrom", []):
                given.update(config_maps[source["configMapRef"]["name"]])
            given.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
            found[f"kubernetes {name}"] = given
    return found


# --- what the desk reads ---------------------------------------------------------------------------


class RecordingEnvironment(Mapping[str, str]):
    """An empty environment that remembers every name the settings ask it for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def read_by_the_desk(name: str) -> bool:
    """A name `load_settings` asks for, one the desk hands to Temporal's own environment configuration
    (desk/config.py, TemporalAccess), or one OpenTelemetry's SDK reads."""
    environment = RecordingEnvironment()
    load_settings(environment)
    otel = {value for key, value in vars(otel_variables).items() if key.startswith("OTEL_")}
    return (
        name in environment.asked
        or name.startswith(config.TEMPORAL_ACCESS_PREFIXES)  # passed on to temporalio.envconfig
        or name in otel
    )


def unread(names: set[str] | dict[str, set[str]]) -> list[str]:
    return sorted(name for name in names if name not in PROCESS_ENVIRONMENT and not read_by_the_desk(name))


# --- the tests -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_each_manifest_is_valid_kubernetes(path: Path) -> None:
    for doc in yaml.safe_load_all(path.read_text()):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_a_misspelt_manifest_field_is_refused() -> None:
    deployment = next(d for d in manifests() if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_the_manifests_have_what_a_deployment_needs() -> None:
    kinds = {(d["kind"], d["metadata"]["name"]) for d in manifests()}
    processes = [*SERVICES, HTTP_GATEWAY, WORKER]
    for process in processes:
        assert {("Deployment", process), ("Service", process), ("PodDisruptionBudget", process)} <= kinds
    assert ("HorizontalPodAutoscaler", WORKER) in kinds
    assert any(kind == "Job" for kind, _ in kinds)
    for name, container in kubernetes_desk_containers():
        if name in processes:
            assert {"readinessProbe", "livenessProbe"} <= set(container), name
    for service in SERVICES:  # gRPC: each caller balances over the pods itself
        spec = next(
            d["spec"] for d in manifests() if d["kind"] == "Service" and d["metadata"]["name"] == service
        )
        assert spec["clusterIP"] == "None", service


def test_the_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(compose())


def test_a_misspelt_compose_key_is_refused() -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    broken = compose()
    broken["services"]["intake"]["helthcheck"] = broken["services"]["intake"].pop("healthcheck")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(broken)


def test_compose_runs_every_process_twice() -> None:
    services = compose_desk_services()
    for process in (*SERVICES, HTTP_GATEWAY, WORKER):
        assert services[process]["deploy"]["replicas"] == 2, process


def test_the_image_runs_helpdesk_as_no_root() -> None:
    instructions = dockerfile_instructions()
    words = dict(instructions)
    assert json.loads(words["ENTRYPOINT"]) == [IMAGE]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[IMAGE] == "cli.main:main"
    user = words["USER"].partition(":")[0]
    assert user.isdigit() and int(user) != 0


def test_every_image_is_pinned() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    images = [s["image"] for s in compose()["services"].values()]
    images += [c["image"] for _, c in kubernetes_desk_containers()]
    for image in images:
        name, _, tag = image.rpartition("/")[2].partition(":")
        assert re.fullmatch(r"\d+(\.\d+){1,2}(-[a-z0-9.-]+)?", tag), image  # a release, never "latest"
        if name == IMAGE:
            assert tag == version, image
    base = re.search(r"ARG PYTHON_IMAGE=(\S+)", DOCKERFILE.read_text())
    assert base and re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base.group(1))


@pytest.mark.parametrize("where", sorted(desk_command_lines()))
def test_every_command_line_is_one_helpdesk_accepts(where: str) -> None:
    argv = desk_command_lines()[where]
    if argv == ["--help"]:  # the image's default: it prints the commands, which is all it should do
        return
    build_parser().parse_args(argv)  # argparse exits (SystemExit) on a command it does not know


def test_a_wrong_command_line_is_refused() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "intak"])


def test_every_process_is_run_by_the_files() -> None:
    lines = desk_command_lines()
    for kind in ("compose", "kubernetes"):
        run = [argv for where, argv in lines.items() if where.startswith(kind)]
        for process in (*SERVICES, HTTP_GATEWAY):
            assert ["serve", process] in run, (kind, process)
        assert [WORKER] in run and any(argv[:2] == ["db", "migrate"] for argv in run), kind


def test_every_environment_variable_set_is_one_the_desk_reads() -> None:
    found = environment_set()
    assert "DATABASE_URL_FILE" in found and "TEMPORAL_ADDRESS" in found  # the scan finds what is there
    missing = unread(found)
    where = {name: sorted(found[name]) for name in missing}
    assert not missing, "set, but the desk reads no such setting: " + "; ".join(
        f"{name} ({', '.join(places[:2])}{' …' if len(places) > 2 else ''})" for name, places in where.items()
    )


TRANSPORT_SETTINGS = ("HELPDESK_MODE", "HELPDESK_HOST", "HELPDESK_GRPC_PLAINTEXT_REASON")


@pytest.mark.parametrize("where", sorted(service_environments()))
def test_every_service_serves_tls_or_says_what_protects_its_plaintext(where: str) -> None:
    env = service_environments()[where]
    assert (env["HELPDESK_MODE"], env["HELPDESK_HOST"]) == ("production", "0.0.0.0")  # the case that matters
    if "HELPDESK_TLS_CERT_FILE" not in env:  # the service would start: its files are not read offline
        transport = {name: env[name] for name in TRANSPORT_SETTINGS if name in env}
        load_settings(transport).require_transport_security()


def test_a_misspelt_environment_variable_is_caught() -> None:
    assert unread({"HELPDESK_MODE", "TEMPORAL_TLS", "OTEL_SERVICE_NAME", "HELPDESK_MOED"}) == [
        "HELPDESK_MOED"
    ]
