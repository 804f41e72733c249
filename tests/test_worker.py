"""The production worker builds (the sandbox validates every workflow), and
workflow modules import only what keeps them deterministic."""

import ast
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.testing import WorkflowEnvironment

import appraisal.workflows
from appraisal.worker import WORKFLOWS, build_worker

ALLOWED_PREFIXES = ("temporalio", "appraisal.domain", "appraisal.workflows")
STDLIB_FORBIDDEN = {"random", "uuid", "time", "os", "socket", "subprocess", "threading", "urllib", "http"}


def _imports_outside_passthrough(tree: ast.Module) -> list[str]:
    """Imports at module level, except inside `with workflow.unsafe.imports_passed_through()`."""
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_workflow_modules_import_only_stdlib_temporalio_and_domain() -> None:
    import sys

    stdlib = sys.stdlib_module_names
    for path in Path(appraisal.workflows.__file__).parent.glob("*.py"):
        for name in _imports_outside_passthrough(ast.parse(path.read_text())):
            top = name.split(".")[0]
            assert top not in STDLIB_FORBIDDEN, f"{path.name} imports {name}"
            assert top in stdlib or name.startswith(ALLOWED_PREFIXES), f"{path.name} imports {name}"


async def test_production_worker_builds_with_every_workflow(
    temporal_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # Construction runs the sandbox's validation of each workflow definition;
    # entering the worker checks it against the server.
    worker = build_worker(temporal_env.client, task_queue="build-check", sessions=sessions)
    async with worker:
        pass
    assert worker.is_shutdown
    assert {w.__name__ for w in WORKFLOWS} == {
        "CommissionWorkflow",
        "CalendarReloadWorkflow",
        "DailyAnchorWorkflow",
        "AnchorDeliveryWorkflow",
        "ComplaintWorkflow",
        "LicenceExpiryWorkflow",
        "InspectionDrawWorkflow",
        "TestimonyWorkflow",
        "RegistryExitWorkflow",
        "PenaltyWorkflow",
        "SupervisionRatesWorkflow",
        "AdmissionWorkflow",
        "IntegrityEvaluationWorkflow",
        "AnnualEvaluationsWorkflow",
    }


def test_domain_package_imports_only_the_standard_library() -> None:
    """It is passed through the workflow sandbox, so it must stay deterministic and I/O-free."""
    import sys

    import appraisal.domain

    stdlib = sys.stdlib_module_names
    for path in Path(appraisal.domain.__file__).parent.glob("*.py"):
        for name in _imports_outside_passthrough(ast.parse(path.read_text())):
            top = name.split(".")[0]
            assert top not in STDLIB_FORBIDDEN, f"{path.name} imports {name}"
            assert top in stdlib or name.startswith("appraisal.domain"), f"{path.name} imports {name}"
