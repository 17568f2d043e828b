"""One error type for business refusals, turned into one JSON shape by the API (R-API-1).

``{"error": {"code": "...", "message": "...", "rule": "R-…" or null, "fields": {...}}}``
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A refusal the user can act on: a message, optionally the rule id and the offending fields."""

    status = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        rule: str | None = None,
        fields: dict[str, Any] | None = None,
        code: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.rule = rule
        self.fields = fields or {}
        if code:
            self.code = code
        if status:
            self.status = status

    def as_dict(self) -> dict[str, Any]:
        return error_body(self.code, self.message, rule=self.rule, fields=self.fields)


class RuleViolation(ApplicationError):
    """A product rule (R-…) refuses the action."""

    status = 422
    code = "rule_violation"


class NotFound(ApplicationError):
    """Not found, or not the caller's: both answer 404 so ids of other partners leak nothing (R-TEN-1)."""

    status = 404
    code = "not_found"

    def __init__(self, message: str = "Not found.", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class Forbidden(ApplicationError):
    status = 403
    code = "forbidden"


class Conflict(ApplicationError):
    status = 409
    code = "conflict"


def error_body(
    code: str, message: str, *, rule: str | None = None, fields: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "rule": rule, "fields": fields or {}}}
