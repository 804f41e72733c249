"""Which shape of the code a workflow's history was recorded with.

Every change to a released workflow's commands is a `workflow.patched()` check, and each
check records a marker event in every new history. One check, made where the history
first asks about any of them, stands for them all: a history recorded with the
`CURRENT_SHAPE` marker began on code that has every earlier patch, so it records no
other marker; an older history answers each earlier patch as it always did, and keeps
the shape it was started with for the rest of its life (docs/architecture.md,
"Changing a released workflow")."""

from temporalio import workflow

EARLIER_PATCHES = frozenset(
    {"deliver-only-to-endpoints", "answer-before-projection", "belated-rungs-wait", "remind-court-of-outcome"}
)
"""The patches the current shape includes. A change made after it is a `workflow.patched()`
of its own (or a new shape): a history begun on this shape did not have it."""

CURRENT_SHAPE = "clocks-planned-in-workflow"
"""Clocks planned in the workflow on the calendar years it holds (no local activity per
plan); search attributes upserted only when one of them changed; every earlier patch."""


class Versions:
    def __init__(self) -> None:
        self._current: bool | None = None

    @property
    def current(self) -> bool:
        """Whether this history was started on the current shape (asked once, then kept)."""
        if self._current is None:
            self._current = workflow.patched(CURRENT_SHAPE)
        return self._current

    def earlier_patch(self, patch_id: str) -> bool:
        """A patch the current shape includes: there on the current shape, asked of older histories."""
        if patch_id not in EARLIER_PATCHES:
            raise ValueError(f"{patch_id} is not one of the patches the current shape includes")
        return self.current or workflow.patched(patch_id)
