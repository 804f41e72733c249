"""Custom search attributes, so the Temporal UI can filter commissions.
The dev command and the tests register exactly these."""

from collections.abc import Sequence
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey, SearchAttributeUpdate

from appraisal.workflows.versions import Versions

STAGE = SearchAttributeKey.for_keyword("AppraisalStage")
COURT = SearchAttributeKey.for_keyword("AppraisalCourt")
INSTITUTION = SearchAttributeKey.for_keyword("AppraisalInstitution")
CATEGORY = SearchAttributeKey.for_keyword("AppraisalCategory")
NEXT_DUE_AT = SearchAttributeKey.for_datetime("AppraisalNextDueAt")
OVERDUE = SearchAttributeKey.for_bool("AppraisalOverdue")
ESCALATION = SearchAttributeKey.for_keyword("AppraisalEscalation")
"""Highest rung fired on a running clock: none, warning, overdue, escalation."""

ALL = (STAGE, COURT, INSTITUTION, CATEGORY, NEXT_DUE_AT, OVERDUE, ESCALATION)


class Upserts:
    """The search attributes a workflow last upserted. Every upsert is an event of its
    history, so on the current shape a step upserts only the attributes that changed
    (none, most often, when a step leaves the stage as it was)."""

    def __init__(self, versions: Versions) -> None:
        self.versions = versions
        self.last: dict[str, Any] = {}

    def upsert(self, updates: Sequence[SearchAttributeUpdate[Any]]) -> None:
        if not self.versions.current:
            workflow.upsert_search_attributes(updates)
            return
        changed = [u for u in updates if self.last.get(u.key.name) != u.value]
        if changed:
            workflow.upsert_search_attributes(changed)
            self.last.update((u.key.name, u.value) for u in changed)
