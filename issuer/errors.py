"""The issuer's exceptions; ``status`` is the HTTP status each maps to.

::

    IssuerError
    ├── Unauthorized            401: no, unknown or revoked token
    ├── Forbidden               403: token lacks the scope, or the issuer acts outside its scopes
    ├── NotFound                404: no such issuer, label, credential, rule or status list
    ├── Conflict                409: already exists, idempotency key reused with another request,
    │   │                            revocation is permanent
    │   └── GtinTaken           409: the GTIN belongs to another manufacturer (``errors``:
    │                                the pointer of the GTIN in the request)
    ├── InvalidRequest          422: the request does not validate (``errors``: pointer + reason)
    │   └── NotGradableError    422: the label cannot be graded under the rule (``reason``)
    ├── IssuanceFailed          503: signing or the log commit failed; nothing was issued
    └── StoreAuditError         the issuer's tables disagree with the log (``carbonlabel audit``;
                                 the message names the first disagreement)
"""

from __future__ import annotations

from dataclasses import dataclass


class IssuerError(Exception):
    status = 400
    code = "issuer-error"

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class Unauthorized(IssuerError):
    status = 401
    code = "unauthorized"


class Forbidden(IssuerError):
    status = 403
    code = "forbidden"


class NotFound(IssuerError):
    status = 404
    code = "not-found"


class Conflict(IssuerError):
    status = 409
    code = "conflict"


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field: RFC 6901 ``pointer`` and a ``reason`` a person can act on."""

    pointer: str
    reason: str


class InvalidRequest(IssuerError):
    status = 422
    code = "invalid-request"

    def __init__(self, detail: str, errors: list[FieldProblem] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []


class NotGradableError(InvalidRequest):
    code = "not-gradable"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class IssuanceFailed(IssuerError):
    status = 503
    code = "issuance-failed"


class GtinTaken(Conflict):
    """A label names a manufacturer that does not own its GTIN (issuer/gtins.py)."""

    code = "gtin-taken"

    def __init__(self, detail: str, errors: list[FieldProblem] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []


class StoreAuditError(IssuerError):
    """The store audit found a row that disagrees with the log; the message names it."""

    status = 500
    code = "store-audit"
