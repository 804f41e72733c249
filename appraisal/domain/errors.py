class RuleViolation(Exception):
    """A step the rules do not allow now. `code` is stable (API.md 409 codes);
    `rule` is the id in the rule table when one applies."""

    def __init__(
        self, code: str, message: str, *, rule: str | None = None, about: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.rule = rule
        self.about = about or {}
        """What the violation is about (the appraiser refused, ...), for the caller."""

    def details(self) -> dict[str, str]:
        return {**({"rule": self.rule} if self.rule else {}), **self.about}


class InvalidInput(Exception):
    """Input that can never be valid for this step (HTTP 422), naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFound(Exception):
    """No such thing, or none the caller may know of (HTTP 404)."""

    def __init__(self, what: str = "commission") -> None:
        super().__init__(f"no such {what}")
        self.message = f"no such {what}"


class Forbidden(Exception):
    """The caller's role may not do or see this (HTTP 403)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unavailable(Exception):
    """A dependency did not answer in time; nothing was changed (HTTP 503)."""

    def __init__(self, dependency: str, message: str) -> None:
        super().__init__(message)
        self.dependency = dependency
        self.message = message
