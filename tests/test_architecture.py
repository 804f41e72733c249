"""The arrows between the product's layers (docs/architecture.md, "Layers"): each
layer may import only those below it. Every import of a module counts, at any depth
(a deferred import inside a function too), so a new upward arrow fails CI here."""

import ast
from pathlib import Path

import appraisal

PACKAGE = Path(appraisal.__file__).parent

NEVER: dict[str, set[str]] = {
    # layer: the layers it must never import
    "domain": {"*"},
    "schemas": {"api", "web", "services", "db", "activities", "workflows", "worker", "app", "core"},
    "db": {"api", "web", "services", "activities", "workflows", "worker", "app", "schemas"},
    "core": {"api", "web", "services", "activities", "db", "worker", "app", "schemas"},
    "services": {"api", "web", "activities", "worker", "app"},
    "activities": {"api", "web", "services", "workflows", "worker", "app", "schemas"},
    "api": {"web", "activities", "worker", "app"},
    "web": {"api.routes", "activities", "workflows", "db", "worker", "app"},
    # The report as a document: drawn and sealed from bytes and keys alone; sealed once from
    # the trail by `sealing`, which the report service and the sealing activity share.
    "report_pdf": {"api", "web", "services", "activities", "workflows", "worker", "app", "db", "sealing"},
    "report_seal": {"api", "web", "services", "activities", "workflows", "worker", "app", "db", "sealing"},
    "sealing": {"api", "web", "services", "activities", "workflows", "worker", "app"},
}
"""Workflows are held tighter still by tests/test_worker.py: outside
`imports_passed_through()` only the standard library, temporalio and the domain."""

NO_SQL_IN = ("api.routes", "web")
"""Routes and pages read and write through services: no query is built in them."""


def layer_of(module: str) -> str:
    """`appraisal.api.routes.tasks` → `api.routes`; `appraisal.services.audit` → `services`."""
    parts = module.split(".")[1:]
    if parts[:2] == ["api", "routes"]:
        return "api.routes"
    return parts[0] if parts else ""


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        if "migrations" in relative.parts:
            continue
        found[".".join(relative.parts).removesuffix(".__init__")] = path
    return found


def forbidden(source_layer: str, target: str) -> bool:
    never = NEVER.get(source_layer, set())
    if source_layer == "api.routes":
        never = NEVER["api"]
    target_layer = layer_of(target)
    if "*" in never:
        return target_layer != source_layer
    return target_layer in never or (target_layer == "api.routes" and "api" in never)


def test_no_layer_imports_one_above_it() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, path in modules().items()
        for target in imports_of(path)
        if target.startswith("appraisal.") and forbidden(layer_of(module), target)
    )
    assert wrong == []


def test_routes_and_pages_build_no_query() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, path in modules().items()
        if layer_of(module) in NO_SQL_IN or module.startswith("appraisal.web")
        for target in imports_of(path)
        if target.split(".")[0] in {"sqlalchemy", "sqlmodel", "asyncpg"}
        and target != "sqlmodel.ext.asyncio.session"  # the session's type, handed to a service
    )
    assert wrong == []


def test_only_the_entry_points_build_the_app() -> None:
    importers = sorted(module for module, path in modules().items() if "appraisal.app" in imports_of(path))
    assert importers == ["appraisal.cli"]


def test_the_contract_catches_an_upward_arrow(tmp_path: Path) -> None:
    """The check itself can fail: a service importing a route is reported."""
    (tmp_path / "bad.py").write_text("from appraisal.api.routes import commissions\n")
    assert forbidden("services", next(iter(imports_of(tmp_path / "bad.py"))))
    assert forbidden("domain", "appraisal.db.models") and not forbidden("domain", "appraisal.domain.rules")
    assert forbidden("web", "appraisal.api.routes.tasks") and not forbidden("web", "appraisal.api.deps")
