"""docs/lifecycle.md is generated from the transition tables, and the tables
name every step each workflow really has, so the diagrams cannot drift."""

from pathlib import Path

import pytest
from temporalio import workflow

from appraisal.domain.admission import AdmissionStage
from appraisal.domain.complaint import ComplaintStage
from appraisal.domain.errors import RuleViolation
from appraisal.domain.evaluation import EvaluationStage
from appraisal.domain.lifecycle import (
    COMMISSION_TRANSITIONS,
    START,
    WORKFLOWS,
    lifecycle_document,
    require_step,
    stages_for,
)
from appraisal.domain.penalty import PenaltyStage
from appraisal.domain.stages import Stage
from appraisal.domain.testimony import TestimonyStage
from appraisal.workflows.admission import AdmissionWorkflow
from appraisal.workflows.commission import CommissionWorkflow
from appraisal.workflows.complaint import ComplaintWorkflow
from appraisal.workflows.evaluation import IntegrityEvaluationWorkflow
from appraisal.workflows.penalty import PenaltyWorkflow
from appraisal.workflows.testimony import TestimonyWorkflow

ROOT = Path(__file__).resolve().parents[2]
CLASSES = {
    "CommissionWorkflow": CommissionWorkflow,
    "ComplaintWorkflow": ComplaintWorkflow,
    "TestimonyWorkflow": TestimonyWorkflow,
    "PenaltyWorkflow": PenaltyWorkflow,
    "AdmissionWorkflow": AdmissionWorkflow,
    "IntegrityEvaluationWorkflow": IntegrityEvaluationWorkflow,
}
STAGES = {
    "CommissionWorkflow": Stage,
    "ComplaintWorkflow": ComplaintStage,
    "TestimonyWorkflow": TestimonyStage,
    "PenaltyWorkflow": PenaltyStage,
    "AdmissionWorkflow": AdmissionStage,
    "IntegrityEvaluationWorkflow": EvaluationStage,
}
NOT_STEPS = {"recompute_clocks"}
"""Handlers that change no stage: a calendar reload replans clocks wherever they are."""
PSEUDO_STEPS = {
    "entrust",
    "end",
    "summon_testimony",
    "deemed_acceptance",
    "deemed_renewal",
    "year_end",
    "window_closed",
    "period_closed",
}
"""Table steps that are not handlers of that workflow: starting, ending, the parent's Update, or
what the law makes of the bureau's silence (a timer's, not a handler's)."""


def test_the_document_is_generated_from_the_tables() -> None:
    assert (ROOT / "docs" / "lifecycle.md").read_text(encoding="utf-8") == lifecycle_document(), (
        "run: python -m appraisal.domain.lifecycle > docs/lifecycle.md"
    )


@pytest.mark.parametrize("name", list(WORKFLOWS))
def test_every_handler_is_a_step_and_every_step_a_handler(name: str) -> None:
    definition = workflow._Definition.must_from_class(CLASSES[name])
    handlers = {*definition.updates, *definition.signals} - {None} - NOT_STEPS
    steps = {t.step for t in WORKFLOWS[name]}
    if name == "CommissionWorkflow":
        handlers.discard("register")  # answers the entrustment: the workflow's start
    assert handlers - steps == set(), "handlers missing from the lifecycle table"
    assert steps - handlers - PSEUDO_STEPS == set(), "table steps the workflow does not have"


@pytest.mark.parametrize("name", list(WORKFLOWS))
def test_every_stage_is_reachable_in_the_diagram(name: str) -> None:
    targets = {t.target for t in WORKFLOWS[name]}
    sources = {t.source for t in WORKFLOWS[name]}
    for stage in STAGES[name]:
        assert stage in targets, f"{stage} is never entered"
        assert stage in sources, f"{stage} is never left (terminal stages end at {START})"


def test_validators_allow_exactly_the_table() -> None:
    for step in {t.step for t in COMMISSION_TRANSITIONS} - {"entrust", "end"}:
        allowed = stages_for(COMMISSION_TRANSITIONS, step)
        for stage in Stage:
            if stage in allowed:
                require_step(stage, step)
            else:
                with pytest.raises(RuleViolation) as caught:
                    require_step(stage, step)
                assert caught.value.code == "not_in_stage"
