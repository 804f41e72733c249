"""Each inbox task opens the form that takes it: its kind names that step, or the table of
web/forms.TASK_FORMS does."""

from appraisal.web.forms import TASK_FORMS, task_form
from appraisal.web.labels import catalogue


def test_every_task_with_a_form_opens_it_and_the_rest_open_the_clocks() -> None:
    kinds = {code for context, code in catalogue("zh_CN") if context == "task"}
    assert set(TASK_FORMS) <= kinds, "every alias names a task the workflows produce"
    opened = {kind: task_form(kind) for kind in kinds}
    assert opened["decide_acceptance"] == "do-decide_acceptance"
    assert opened["close_commission"] == "do-close"
    assert opened["overdue_remedy"] == "do-reassign"
    assert opened["confirm_testimony"] == "do-confirm"
    assert opened["overdue_escalation"] == "clocks", "nothing to take, only to watch"
    watched = sorted(kind for kind, anchor in opened.items() if anchor == "clocks")
    assert watched == [
        "appear_in_court",
        "await_admission_correction",
        "await_complaint_supplement",
        "await_party_statement",
        "complete_training_hours",
        "confirm_grades",
        "decide_admission",
        "decide_admission_acceptance",
        "decide_complaint",
        "decide_complaint_acceptance",
        "decide_grade_objection",
        "decide_penalty",
        "draw_expert_panel",
        "hold_penalty_hearing",
        "investigate_penalty_case",
        "notify_complaint_parties",
        "overdue_escalation",
        "renew_licence",
        "review_proposed_grades",
        "review_unusual_rate",
        "serve_penalty_decision",
        "submit_expert_review",
        "submit_self_assessment",
        "supply_admission_correction",
    ], (
        "a commission's task with a form of its own never falls back to the clocks (others open their own page)"
    )
