"""Custom search attributes, so the Temporal UI can filter commissions.
The dev command and the tests register exactly these."""

from temporalio.common import SearchAttributeKey

STAGE = SearchAttributeKey.for_keyword("AppraisalStage")
COURT = SearchAttributeKey.for_keyword("AppraisalCourt")
INSTITUTION = SearchAttributeKey.for_keyword("AppraisalInstitution")
CATEGORY = SearchAttributeKey.for_keyword("AppraisalCategory")
NEXT_DUE_AT = SearchAttributeKey.for_datetime("AppraisalNextDueAt")
OVERDUE = SearchAttributeKey.for_bool("AppraisalOverdue")
ESCALATION = SearchAttributeKey.for_keyword("AppraisalEscalation")
"""Highest rung fired on a running clock: none, warning, overdue, escalation."""

ALL = (STAGE, COURT, INSTITUTION, CATEGORY, NEXT_DUE_AT, OVERDUE, ESCALATION)
