"""How every workflow's validators refuse a step: the pure check's
RuleViolation becomes a non-retryable ApplicationError typed with its code,
so the Update is rejected before history and the API answers 409 with it."""

from collections.abc import Callable

from temporalio.exceptions import ApplicationError

from appraisal.domain.errors import RuleViolation


def enforce(check: Callable[[], None]) -> None:
    try:
        check()
    except RuleViolation as err:
        raise ApplicationError(err.message, err.details(), type=err.code, non_retryable=True) from None
