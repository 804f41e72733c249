"""Bearer tokens: HS256 JWTs naming a principal (role, organisation, subject),
with a token id (jti) so an operator can revoke one."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from appraisal.core.settings import Settings
from appraisal.domain.roles import Actor, Role

ALGORITHM = "HS256"


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class TokenClaims:
    actor: Actor
    token_id: str
    expires_at: datetime


def issue_token(settings: Settings, actor: Actor, *, ttl: timedelta | None = None) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": actor.subject,
        "role": actor.role,
        "org": actor.organisation_id,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + (ttl or timedelta(hours=settings.jwt_ttl_hours)),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def read_token(settings: Settings, token: str) -> TokenClaims:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "sub", "jti"]},
        )
        role = Role(claims["role"])
        organisation_id = str(claims["org"])
    except (jwt.PyJWTError, KeyError, ValueError) as err:
        raise InvalidToken(str(err)) from err
    actor = Actor(role=role.value, organisation_id=organisation_id, subject=str(claims["sub"]))
    return TokenClaims(actor, str(claims["jti"]), datetime.fromtimestamp(claims["exp"], UTC))
