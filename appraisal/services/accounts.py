"""Workspace accounts: created with a password kept as an argon2 hash, signed in to a
server-side session (the browser holds a random token, the table its hash), locked after
repeated failures, disabled by an administrator; every change appended to the
organisation's hash-chained `account_change`."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import uuid4

import pyotp
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db.chain import next_link
from appraisal.db.models import (
    AccountChange,
    Appraiser,
    Bureau,
    Court,
    EntrustingOrgan,
    Expert,
    Institution,
    UserAccount,
    WebSession,
)
from appraisal.domain.accounts import (
    SESSION_LASTS,
    Workplace,
    administration_refusal,
    after_failure,
    password_problem,
    username_problem,
)
from appraisal.domain.audit import chain_hash
from appraisal.domain.errors import Forbidden, InvalidInput, NotFound, RuleViolation
from appraisal.domain.organs import role_of
from appraisal.domain.roles import Actor, Role
from appraisal.services import registry

PASSWORDS = PasswordHash((Argon2Hasher(),))
UNKNOWN_USER_HASH = PASSWORDS.hash("an unknown user name takes as long to refuse as a wrong password")
WRONG = "用户名或密码错误 Wrong user name or password"
WRONG_CODE = "两步验证码错误 Wrong or missing code from your authenticator app"
OPERATOR = Actor("operator", "", "command line")
"""Who creates accounts from the command line (the demo seed, an operator's first administrator)."""


class NotSignedIn(Exception):
    """No valid session: the browser signs in (again). `message` says why, for the page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SignedIn:
    actor: Actor
    token: str
    """For the browser's cookie only; the table keeps its hash."""
    expires_at: datetime


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def account_actor(account: UserAccount) -> Actor:
    return Actor(account.role, account.organisation_id, account.username)


def chained_fields(row: AccountChange) -> dict[str, Any]:
    """What an account change's hash covers: every column but its id and its own hash."""
    return row.model_dump(mode="json", exclude={"id", "hash"})


async def _record(
    *, session: AsyncSession, by: Actor, account: UserAccount, action: str, now: datetime, **data: Any
) -> None:
    seq, prev_hash = await next_link(
        session, AccountChange, partition="organisation_id", value=account.organisation_id
    )
    row = AccountChange(
        organisation_id=account.organisation_id,
        seq=seq,
        account_id=account.id,
        action=action,
        actor_role=by.role,
        actor_organisation_id=by.organisation_id,
        actor_subject=by.subject,
        occurred_at=now,
        data={"username": account.username, "role": account.role, **data},
        prev_hash=prev_hash,
        hash="",
    )
    row.hash = chain_hash(row.prev_hash, chained_fields(row))
    session.add(row)


async def create_account(
    *,
    session: AsyncSession,
    by: Actor,
    username: str,
    password: str,
    display_name: str,
    role: Role,
    organisation_id: str,
    is_admin: bool,
    now: datetime,
    today: date,
    commit: bool = True,
) -> UserAccount:
    """A new account in a registered organisation in good standing (an appraiser's is the
    registered appraiser), with a password that keeps the rules. Committed (unless `commit` is
    false: then the caller commits it with what it writes beside it)."""
    if problem := username_problem(username):
        raise InvalidInput("username", problem)
    if problem := password_problem(password, username=username):
        raise InvalidInput("password", problem)
    if not 1 <= len(display_name.strip()) <= 100:
        raise InvalidInput("display_name", "1–100 个字符 1 to 100 characters")
    if refusal := await registry.organisation_refusal(
        session=session, principal=Actor(role, organisation_id, username), today=today
    ):
        raise InvalidInput("organisation_id", refusal)
    if (await session.exec(select(UserAccount).where(UserAccount.username == username))).first():
        raise RuleViolation("username_taken", f"the user name {username} is taken")
    account = UserAccount(
        id=str(uuid4()),
        username=username,
        display_name=display_name.strip(),
        role=role,
        organisation_id=organisation_id,
        is_admin=is_admin,
        password_hash=PASSWORDS.hash(password),
        created_at=now,
    )
    session.add(account)
    await _record(session=session, by=by, account=account, action="created", now=now, is_admin=is_admin)
    if commit:
        await session.commit()
    return account


async def sign_in(
    *, session: AsyncSession, username: str, password: str, now: datetime, today: date, code: str = ""
) -> SignedIn:
    """A new session for the right password (and, once the account has a second factor, the
    authenticator's current code) of an active, unlocked account whose organisation may act;
    NotSignedIn with the reason otherwise. Five failures in a row lock the account for 15
    minutes (recorded); a success resets the count."""
    account = (
        await session.exec(
            select(UserAccount).where(UserAccount.username == username.strip().lower()).with_for_update()
        )
    ).first()
    if account is None:
        PASSWORDS.verify(password, UNKNOWN_USER_HASH)
        raise NotSignedIn(WRONG)
    if account.disabled_at is not None:
        raise NotSignedIn("账户已停用 This account is disabled")
    if account.locked_until is not None and account.locked_until > now:
        raise NotSignedIn(f"账户已锁定 Locked after repeated failures until {account.locked_until:%H:%M} UTC")
    password_right = PASSWORDS.verify(password, account.password_hash)
    if not password_right or (account.totp_secret and not _code_right(account.totp_secret, code, now)):
        failed = after_failure(failed_attempts=account.failed_attempts, now=now)
        account.failed_attempts, account.locked_until = failed.failed_attempts, failed.locked_until
        if failed.locked_until is not None:
            await _record(
                session=session,
                by=account_actor(account),
                account=account,
                action="locked",
                now=now,
                failed_attempts=failed.failed_attempts,
                until=failed.locked_until.isoformat(),
            )
            account.failed_attempts = 0
        await session.commit()
        raise NotSignedIn(WRONG if not password_right else WRONG_CODE)
    actor = account_actor(account)
    if refusal := await registry.organisation_refusal(session=session, principal=actor, today=today):
        raise NotSignedIn(f"所属机构不能办理 The account's organisation may not act: {refusal}")
    account.failed_attempts, account.locked_until = 0, None
    signed_in = open_session(session=session, account=account, now=now)
    await session.commit()
    return signed_in


def open_session(*, session: AsyncSession, account: UserAccount, now: datetime) -> SignedIn:
    """A new browser session for the account (the caller has checked who it is, and commits)."""
    token = secrets.token_urlsafe(32)
    expires_at = now + SESSION_LASTS
    session.add(
        WebSession(
            token_hash=_token_hash(token), account_id=account.id, created_at=now, expires_at=expires_at
        )
    )
    return SignedIn(account_actor(account), token, expires_at)


async def record_change(
    *, session: AsyncSession, by: Actor, account: UserAccount, action: str, now: datetime, **data: Any
) -> None:
    """Appends one change of an account to its organisation's chain (the caller commits)."""
    await _record(session=session, by=by, account=account, action=action, now=now, **data)


async def session_actor(*, session: AsyncSession, token: str, now: datetime, today: date) -> Actor:
    """Who a browser's session token signs in, checked on every page: the session neither
    ended nor expired, its account not disabled, its organisation still in good standing."""
    found = (
        await session.exec(
            select(WebSession, UserAccount)
            .join(UserAccount, col(UserAccount.id) == col(WebSession.account_id))
            .where(WebSession.token_hash == _token_hash(token))
        )
    ).first()
    if found is None:
        raise NotSignedIn("请登录 Please sign in")
    web_session, account = found
    if web_session.ended_at is not None or web_session.expires_at <= now:
        raise NotSignedIn("会话已结束，请重新登录 The session has ended: sign in again")
    if account.disabled_at is not None:
        raise NotSignedIn("账户已停用 This account is disabled")
    actor = account_actor(account)
    if refusal := await registry.organisation_refusal(session=session, principal=actor, today=today):
        raise NotSignedIn(f"所属机构不能办理 The account's organisation may not act: {refusal}")
    return actor


async def sign_out(*, session: AsyncSession, token: str, now: datetime) -> None:
    await session.exec(
        update(WebSession)
        .where(col(WebSession.token_hash) == _token_hash(token), col(WebSession.ended_at).is_(None))
        .values(ended_at=now)
    )
    await session.commit()


async def disable_account(
    *, session: AsyncSession, by: Actor, username: str, reason: str, now: datetime
) -> None:
    """The account signs in no more, and every browser it is signed in on is signed out at its
    next page. By the operator, or by a manager of the account (disable_managed)."""
    account = (
        await session.exec(select(UserAccount).where(UserAccount.username == username).with_for_update())
    ).first()
    if account is None:
        raise NotFound("account")
    if account.disabled_at is None:
        account.disabled_at = now
        await session.exec(
            update(WebSession)
            .where(col(WebSession.account_id) == account.id, col(WebSession.ended_at).is_(None))
            .values(ended_at=now)
        )
        await _record(session=session, by=by, account=account, action="disabled", now=now, reason=reason)
    await session.commit()


async def account_changes(*, session: AsyncSession, organisation_id: str) -> list[AccountChange]:
    query = select(AccountChange).where(AccountChange.organisation_id == organisation_id)
    return list((await session.exec(query.order_by(col(AccountChange.seq)))).all())


@dataclass(frozen=True)
class Manager:
    """Someone who manages accounts: a bureau official, or an organisation's administrator."""

    actor: Actor
    is_admin: bool
    place: Workplace


async def _account_of(*, session: AsyncSession, principal: Actor) -> UserAccount | None:
    """The active account a principal signed in with (none for a bearer token)."""
    query = select(UserAccount).where(
        UserAccount.username == principal.subject,
        UserAccount.organisation_id == principal.organisation_id,
        col(UserAccount.disabled_at).is_(None),
    )
    return (await session.exec(query)).first()


async def is_administrator(*, session: AsyncSession, principal: Actor) -> bool:
    account = await _account_of(session=session, principal=principal)
    return bool(account and account.is_admin)


async def manager_of(*, session: AsyncSession, principal: Actor) -> Manager:
    """Who is asking to manage accounts; Forbidden unless a bureau official or an account
    marked administrator of its organisation."""
    place = await registry.workplace_of(
        session=session, role=principal.role, organisation_id=principal.organisation_id
    )
    account = (
        await session.exec(
            select(UserAccount).where(
                UserAccount.username == principal.subject,
                UserAccount.organisation_id == principal.organisation_id,
            )
        )
    ).first()
    is_admin = bool(account and account.is_admin and account.disabled_at is None)
    if place is None or (principal.role != Role.SUPERVISOR and not is_admin):
        raise Forbidden("只有管理员可以管理账户 only an administrator (or the bureau) manages accounts")
    return Manager(principal, is_admin, place)


async def _require_may_manage(
    *, session: AsyncSession, manager: Manager, role: str, organisation_id: str
) -> None:
    place = await registry.workplace_of(session=session, role=role, organisation_id=organisation_id)
    if place is None:
        raise InvalidInput("organisation_id", f"{role} {organisation_id} is not in the registry")
    if refusal := administration_refusal(
        by_role=manager.actor.role, by_is_admin=manager.is_admin, by_place=manager.place, place=place
    ):
        raise Forbidden(refusal)


async def add_account(
    *,
    session: AsyncSession,
    manager: Manager,
    username: str,
    password: str,
    display_name: str,
    role: Role,
    organisation_id: str,
    is_admin: bool,
    now: datetime,
    today: date,
) -> UserAccount:
    """An account created by a bureau official or an organisation's administrator, within
    what they manage (domain.accounts.administration_refusal)."""
    await _require_may_manage(session=session, manager=manager, role=role, organisation_id=organisation_id)
    return await create_account(
        session=session,
        by=manager.actor,
        username=username.strip().lower(),
        password=password,
        display_name=display_name,
        role=role,
        organisation_id=organisation_id,
        is_admin=is_admin,
        now=now,
        today=today,
    )


async def managed_accounts(*, session: AsyncSession, manager: Manager) -> list[UserAccount]:
    """Every account the manager may disable: the bureau's, of its courts and institutions and
    their appraisers; an administrator's, of its own organisation (an institution's appraisers too)."""
    organisations = await registry.organisations_at(
        session=session, place=manager.place, whole_bureau=manager.actor.role == Role.SUPERVISOR
    )
    query = select(UserAccount).where(col(UserAccount.organisation_id).in_(organisations))
    return list((await session.exec(query.order_by(col(UserAccount.role), col(UserAccount.username)))).all())


async def disable_managed(
    *, session: AsyncSession, manager: Manager, username: str, reason: str, now: datetime
) -> None:
    account = (await session.exec(select(UserAccount).where(UserAccount.username == username))).first()
    if account is None:
        raise NotFound("account")
    await _require_may_manage(
        session=session, manager=manager, role=account.role, organisation_id=account.organisation_id
    )
    if account.username == manager.actor.subject:
        raise RuleViolation(
            "own_account", "管理员不能停用自己的账户 an administrator does not disable their own account"
        )
    await disable_account(session=session, by=manager.actor, username=username, reason=reason, now=now)


async def account_places(*, session: AsyncSession, manager: Manager) -> list[tuple[Role, str, str]]:
    """Where the manager may create an account: (role, organisation id, its name) — for the
    bureau, its own officials and the desks, heads and courts under it; for an
    administrator, its own organisation (an institution's appraisers too)."""
    whole_bureau = manager.actor.role == Role.SUPERVISOR
    ids = await registry.organisations_at(session=session, place=manager.place, whole_bureau=whole_bureau)
    places: list[tuple[Role, str, str]] = []
    kinds: tuple[tuple[Any, tuple[Role, ...]], ...] = (
        (Bureau, (Role.SUPERVISOR,)),
        (Court, (Role.COURT,)),
        (Institution, (Role.INSTITUTION, Role.INSTITUTION_HEAD)),
        (Appraiser, (Role.APPRAISER,)),
        (Expert, (Role.EXPERT,)),
    )
    for kind, roles in kinds:
        if (kind is Appraiser and whole_bureau) or (kind is Expert and not whole_bureau):
            continue  # an institution's administrator registers its appraisers' accounts
        rows = (await session.exec(select(kind).where(col(kind.id).in_(ids)).order_by(col(kind.name)))).all()
        places += [(role, row.id, row.name) for row in rows for role in roles]
    organs = (
        await session.exec(
            select(EntrustingOrgan)
            .where(col(EntrustingOrgan.id).in_(ids))
            .order_by(col(EntrustingOrgan.name))
        )
    ).all()
    places += [(role_of(organ.kind), organ.id, organ.name) for organ in organs]
    return places


async def change_password(
    *, session: AsyncSession, principal: Actor, current: str, new: str, now: datetime
) -> None:
    """The signed-in person's own new password, after the current one; recorded."""
    account = await _account_of(session=session, principal=principal)
    if account is None:
        raise InvalidInput(
            "current", "只有账户登录才能修改密码 only an account signed in with a password has one"
        )
    if not PASSWORDS.verify(current, account.password_hash):
        raise InvalidInput("current", "当前密码错误 the current password is wrong")
    if problem := password_problem(new, username=account.username):
        raise InvalidInput("password", problem)
    account.password_hash = PASSWORDS.hash(new)
    await _record(session=session, by=principal, account=account, action="password_changed", now=now)
    await session.commit()


def _code_right(secret: str, code: str, now: datetime) -> bool:
    """The authenticator's code for now, or for the 30 seconds either side (clock drift)."""
    return bool(code.strip()) and pyotp.TOTP(secret).verify(code.strip(), for_time=now, valid_window=1)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(*, secret: str, username: str) -> str:
    """What an authenticator app takes (typed in, or from the URI): the issuer and the user."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="司法鉴定委托 Appraisal")


async def set_second_factor(
    *, session: AsyncSession, principal: Actor, secret: str, code: str, now: datetime
) -> None:
    """The signed-in person's second factor, once a code from their app proves it is set up."""
    account = await _account_of(session=session, principal=principal)
    if account is None:
        raise InvalidInput("code", "只有账户登录才能设置 only an account signed in with a password has one")
    if len(secret) != 32 or not _code_right(secret, code, now):
        raise InvalidInput(
            "code", "验证码不对，请核对手机上的时间 the code does not match: check the phone's clock"
        )
    account.totp_secret = secret
    await _record(session=session, by=principal, account=account, action="second_factor_set", now=now)
    await session.commit()


async def remove_second_factor(*, session: AsyncSession, principal: Actor, code: str, now: datetime) -> None:
    """Signing in by password alone again, after a current code."""
    account = await _account_of(session=session, principal=principal)
    if account is None or not account.totp_secret or not _code_right(account.totp_secret, code, now):
        raise InvalidInput("code", "验证码不对 the code does not match")
    account.totp_secret = None
    await _record(session=session, by=principal, account=account, action="second_factor_removed", now=now)
    await session.commit()


async def has_second_factor(*, session: AsyncSession, principal: Actor) -> bool:
    account = await _account_of(session=session, principal=principal)
    return bool(account and account.totp_secret)
