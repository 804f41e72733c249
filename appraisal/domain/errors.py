class RuleViolation(Exception):
    """A step the rules do not allow now. `code` is stable (API.md 409 codes);
    `rule` is the id in the rule table when one applies."""

    def __init__(self, code: str, message: str, *, rule: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.rule = rule

    def details(self) -> dict[str, str]:
        return {"rule": self.rule} if self.rule else {}


class InvalidInput(Exception):
    """Input that can never be valid for this step (HTTP 422), naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
