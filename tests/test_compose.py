"""docker-compose.yml describes the production shape, in the right order;
.env.example names every setting the product reads (and nothing else), and
docs/operations.md lists each with its default."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from appraisal.core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SERVICES = {"postgres", "temporal", "temporal-ui", "migrate", "api", "worker"}


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return dict(compose["services"])


def conditions(service: dict[str, Any]) -> dict[str, str]:
    """depends_on in its long form: {service: condition}."""
    depends_on = service.get("depends_on", {})
    assert isinstance(depends_on, dict), "depends_on must name a condition for each dependency"
    return {name: spec["condition"] for name, spec in depends_on.items()}


def test_every_piece_of_the_production_shape_is_a_service(services: dict[str, dict[str, Any]]) -> None:
    assert services.keys() >= SERVICES


@pytest.mark.parametrize("name", ["postgres", "temporal", "api"])
def test_long_running_dependencies_have_healthchecks(services: dict[str, dict[str, Any]], name: str) -> None:
    check = services[name]["healthcheck"]
    assert check["test"] and check["test"][0] in ("CMD", "CMD-SHELL")
    assert int(check["retries"]) > 0


def test_the_api_checks_readiness_not_mere_liveness(services: dict[str, dict[str, Any]]) -> None:
    assert "/readyz" in " ".join(services["api"]["healthcheck"]["test"])


def test_the_migration_waits_for_a_healthy_postgres(services: dict[str, dict[str, Any]]) -> None:
    assert conditions(services["migrate"]) == {"postgres": "service_healthy"}
    assert services["migrate"]["command"] == ["appraisal", "migrate"]


@pytest.mark.parametrize("name", ["api", "worker"])
def test_api_and_worker_start_after_the_migration_and_a_healthy_temporal(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    waits_for = conditions(services[name])
    assert waits_for["migrate"] == "service_completed_successfully"
    assert waits_for["temporal"] == "service_healthy"
    assert services[name]["command"] == ["appraisal", name]


@pytest.mark.parametrize("name", ["api", "worker"])
def test_api_and_worker_run_replicas(services: dict[str, dict[str, Any]], name: str) -> None:
    assert int(services[name]["deploy"]["replicas"]) >= 2


def test_each_api_replica_can_publish_its_own_port(services: dict[str, dict[str, Any]]) -> None:
    (mapping,) = services["api"]["ports"]
    host, container = str(mapping).rsplit(":", 1)
    first, last = (int(p) for p in host.split("-"))
    assert container == "8000" and last - first + 1 >= services["api"]["deploy"]["replicas"]


@pytest.mark.parametrize("name", ["api", "worker"])
def test_search_attributes_are_registered_before_api_and_worker_start(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    """Workflows upsert Appraisal* search attributes; an unknown one fails every workflow task."""
    setup = services["temporal-setup"]
    assert conditions(setup) == {"temporal": "service_healthy"}
    assert "register_search_attributes" in " ".join(setup["command"])
    assert conditions(services[name])["temporal-setup"] == "service_completed_successfully"


def env_example_names() -> set[str]:
    """Variables assigned in .env.example, including commented-out optional ones."""
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_env_example_names_every_setting() -> None:
    settings = {name.upper() for name in Settings.model_fields}
    assert settings - env_example_names() == set()


def test_env_example_names_nothing_the_product_ignores() -> None:
    """Settings ignore unknown variables, so a misspelt one would pass silently."""
    compose_variables = set(re.findall(r"\$\{([A-Z0-9_]+)", (ROOT / "docker-compose.yml").read_text()))
    known = {name.upper() for name in Settings.model_fields} | compose_variables
    assert env_example_names() - known == set()


def test_operations_guide_lists_every_setting_with_its_default() -> None:
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    table = guide.split("<!-- settings:", 1)[1].split("<!-- /settings -->", 1)[0]
    rows = dict(re.findall(r"^\| `([A-Z0-9_]+)` \| ([^|]+) \|", table, flags=re.MULTILINE))
    assert rows.keys() == {name.upper() for name in Settings.model_fields}
    for name, field in Settings.model_fields.items():
        if name == "jwt_secret":
            continue  # the development value is not to be copied anywhere
        expected = "unset" if field.default is None else f"`{field.default}`"
        assert rows[name.upper()].strip() == expected, name
