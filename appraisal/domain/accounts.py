"""The rules of workspace accounts, pure: what a user name and a password must be, when
repeated failures lock an account, how long a signed-in session lasts."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")
"""3 to 40 characters: lower-case letters, digits, dot, dash, underscore; a letter or digit first."""
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128
FAILURES_BEFORE_LOCK = 5
LOCKED_FOR = timedelta(minutes=15)
SESSION_LASTS = timedelta(hours=8)
"""A working day: then the browser signs in again."""


def username_problem(username: str) -> str | None:
    if not USERNAME.fullmatch(username):
        return "3–40 个小写字母、数字或 . _ - 3 to 40 lower-case letters, digits, '.', '_' or '-'"
    return None


def password_problem(password: str, *, username: str) -> str | None:
    """Why a new password is refused (in Chinese and English), or None."""
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        return (
            f"密码长度须为 {PASSWORD_MIN_LENGTH}–{PASSWORD_MAX_LENGTH} 个字符"
            f" a password has {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters"
        )
    if not (any(c.isalpha() for c in password) and any(c.isdigit() for c in password)):
        return "密码须同时含字母和数字 a password has both letters and digits"
    if username and username.lower() in password.lower():
        return "密码不得包含用户名 a password does not contain the user name"
    return None


@dataclass(frozen=True)
class FailedSignIn:
    failed_attempts: int
    locked_until: datetime | None


def after_failure(*, failed_attempts: int, now: datetime) -> FailedSignIn:
    """One more wrong password: the count, and the lock once it reaches the limit."""
    count = failed_attempts + 1
    return FailedSignIn(count, now + LOCKED_FOR if count >= FAILURES_BEFORE_LOCK else None)


@dataclass(frozen=True)
class Workplace:
    """Where an account works: the kind of its organisation (court, organ — a procuratorate or
    an investigative organ —, institution or bureau; an appraiser works at their institution),
    that organisation's id, and the bureau over it."""

    kind: str
    organisation_id: str
    bureau_id: str


def administration_refusal(
    *, by_role: str, by_is_admin: bool, by_place: Workplace, place: Workplace
) -> str | None:
    """Why someone may not create or disable an account that works at `place`, or None. The
    bureau's officials create the first administrators of the courts, other entrusting organs
    and institutions under it (and may disable any of their accounts); an organisation's administrator manages the
    accounts of its own organisation (an institution's, its appraisers' too)."""
    if by_role == "supervisor":
        if place.bureau_id != by_place.organisation_id:
            return "不在本局监管之下 not under your bureau"
        return None
    if not by_is_admin:
        return "只有本单位的管理员可以管理账户 only the organisation's administrator manages its accounts"
    if (place.kind, place.organisation_id) != (by_place.kind, by_place.organisation_id):
        return "不是本单位的账户 not an account of your organisation"
    return None
