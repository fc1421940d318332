"""The house's one law (DESIGN section 3, docs/architecture.md): dependencies point one way.

    composition roots: each service's main.py, the worker, the command line (cli/), deploy/
    services/<name>/  -> another service only through its `contract` module
    workflows/        -> services only through their `contract` modules
    domain/           -> desk/ only
    desk/             -> nothing of the above

Every import counts, also one inside a function or under ``TYPE_CHECKING``: a lazy import is still a
dependency. The walk reads the source with ``ast``, so nothing is imported to check it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERED = ("desk", "domain", "services", "workflows")
FIRST_PARTY = (*LAYERED, "cli", "deploy")

COMPOSITION_ROOTS = {"workflows.worker"}  # and every services.<name>.main, see is_root

WORKFLOW_SURFACE = {
    "workflows.contract",
    "workflows.ivr_contract",
    "workflows.quality_contract",
    "workflows.stats_contract",
    "workflows.ticket_client",
}
"""What a service may know of the workflows: ids, update names and inputs, and the client sending them."""

SHARED_EDGE = {"services.ticket_messages"}
"""The ticket's own proto mapping, below every service's edge (it imports only the domain)."""


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layered_modules() -> Iterator[tuple[str, Path]]:
    for package in LAYERED:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield module_name(path), path


def imports_of(path: Path, module: str) -> Iterator[str]:
    """Every first-party module the file imports, as the absolute name it resolves to."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import mod` imports the module pkg.mod; `from mod import name`, the module mod.
            names = [_module_or_package(base, alias.name) for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in FIRST_PARTY:
                yield name


def _module_or_package(base: str, name: str) -> str:
    deeper = ROOT.joinpath(*base.split("."), name)
    return f"{base}.{name}" if deeper.with_suffix(".py").exists() or deeper.is_dir() else base


def is_root(module: str) -> bool:
    parts = module.split(".")
    return module in COMPOSITION_ROOTS or (parts[0] == "services" and parts[-1] == "main")


def service_of(module: str) -> str:
    """`services.intake.opening.starter` -> `intake`; "" for a module at the top of services/."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else ""


def within(name: str, prefixes: set[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def allowed(importer: str, imported: str) -> bool:
    layer, target = importer.split(".", maxsplit=1)[0], imported.split(".", maxsplit=1)[0]
    if target == "desk" or (target == "domain" and layer != "desk"):
        return True
    if layer == "workflows":
        return target == "workflows" or _service_contract(imported)
    if layer == "services":
        return _service_may_import(importer, imported)
    return False  # desk and domain import nothing first-party above them


def _service_may_import(importer: str, imported: str) -> bool:
    if imported.split(".", maxsplit=1)[0] == "workflows":
        return within(imported, WORKFLOW_SURFACE)
    own = service_of(importer)
    return (
        within(imported, SHARED_EDGE)
        or _service_contract(imported)
        or (own != "" and service_of(imported) == own)
    )


def _service_contract(name: str) -> bool:
    parts = name.split(".")
    return parts[0] == "services" and (len(parts) == 2 or parts[2:] == ["contract"])


def violations() -> list[str]:
    found = []
    for module, path in layered_modules():
        if is_root(module):
            continue
        for imported in sorted(set(imports_of(path, module))):
            if not allowed(module, imported):
                found.append(f"{module} imports {imported}")
    return found


def test_dependencies_point_one_way() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("desk.grpc_edge", "services.intake.contract"),
        ("desk.event_bus", "workflows.contract"),
        ("domain.ticket_state", "services.dispatch.contract"),
        ("domain.ticket_state", "workflows.contract"),
        ("workflows.ticket", "services.dispatch.routing"),
        ("services.intake.server", "services.dispatch.repository"),
        ("services.intake.server", "workflows.ticket"),
        ("services.dispatch.server", "cli.client"),
        ("workflows.ticket_steps", "deploy.up"),
    ],
)
def test_the_rule_refuses_what_points_the_wrong_way(importer: str, imported: str) -> None:
    assert not allowed(importer, imported)


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("domain.ticket", "desk.events"),
        ("workflows.ticket", "domain.ticket_state"),
        ("workflows.ticket", "services.dispatch.contract"),
        ("services.intake.server", "services.intake.repository"),
        ("services.intake.server", "services.dispatch.contract"),
        ("services.intake.server", "workflows.contract"),
        ("services.dispatch.server", "services.ticket_messages"),
    ],
)
def test_the_rule_allows_what_points_down(importer: str, imported: str) -> None:
    assert allowed(importer, imported)


def test_every_layer_is_walked() -> None:
    """The walk sees the packages (an empty walk would pass the rule vacuously)."""
    walked = {module.split(".")[0] for module, _ in layered_modules()}
    assert walked == set(LAYERED)
