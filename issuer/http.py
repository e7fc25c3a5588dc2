"""The issuer's HTTP routes: VC-API issue and status, labels, grades, rules, status lists, DIDs.

``issuer_router(service, directory, did_documents)`` returns the routes; the
app mounts them and maps :class:`issuer.errors.IssuerError` to problem details.
Issuing and status endpoints need ``Authorization: Bearer <token>`` with the
``issue`` or ``status`` scope; publishing a grading rule needs ``authority`` (the
label authority's tokens only, see :mod:`issuer.directory`).
"""

import io
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from issuer.directory import Directory, Principal
from issuer.errors import GtinTaken, InvalidRequest, IssuerError, NotFound
from issuer.printable import label_pdf, label_svg
from issuer.qr import OfflineQRTooLarge, offline_qr, qr_png, qr_svg
from issuer.service import MAX_BATCH, Issued, IssuerService, Printing
from schemas.logentry import MAX_REASON_CHARS

STATUS_CACHE = "public, max-age=300"
PRINTABLE_CACHE = {"Cache-Control": "no-cache"}
"""A printable label is stamped REVOKED / SUSPENDED once its status changes: revalidate."""


class IssueRequest(BaseModel):
    """VC-API ``POST /credentials/issue`` body."""

    credential: dict[str, Any] = Field(description="The unsigned credential.")
    options: dict[str, Any] = Field(default_factory=dict, description="Issuance options.")


class StatusEntryIn(BaseModel):
    type: Literal["BitstringStatusListEntry"]
    statusPurpose: str = Field(description="revocation or suspension")


class StatusRequest(BaseModel):
    """VC-API ``POST /credentials/status`` body.

    ``reason`` is this deployment's extension of the VC-API body (the spec's
    request has no such field; other clients simply leave it out): why the status
    changes, logged in the status entry and shown on the scan page.
    """

    model_config = ConfigDict(extra="forbid")
    credentialId: str
    credentialStatus: StatusEntryIn
    status: bool = Field(description="true sets the bit (revoke, suspend); false clears it")
    reason: str | None = Field(
        default=None,
        max_length=MAX_REASON_CHARS,
        description="Extension: why the status changes (logged, shown on the scan page); "
        f"1 to {MAX_REASON_CHARS} characters, no control characters.",
    )


class LabelBatch(BaseModel):
    """``POST /labels/batch`` body."""

    model_config = ConfigDict(extra="forbid")
    labels: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description=f"1 to {MAX_BATCH} LabelRequests (product, footprint…), as for POST /labels.",
    )


class GtinAssignmentRequest(BaseModel):
    """``POST /gtins/{gtin}/assignment``: give a GTIN to another manufacturer."""

    model_config = ConfigDict(extra="forbid")
    manufacturer: str = Field(description="The new owner's Unified Social Credit Code (USCC).")
    reason: str = Field(description="Why (logged with the assignment).")


class GtinBinding(BaseModel):
    """One binding of a GTIN: its first label, or a reassignment by the label authority."""

    logIndex: int = Field(description="The log entry that made the binding.")
    kind: Literal["label", "assignment"]
    manufacturer: str = Field(description="USCC of the manufacturer the GTIN was bound to.")
    previous: str | None = Field(description="USCC of the owner before (assignments).")
    issuer: str = Field(description="DID of who made the binding.")
    credential: str | None = Field(description="The label credential (first-label bindings).")
    reason: str | None
    at: str


class GtinOwner(BaseModel):
    """``GET /gtins/{gtin}``: who owns a GTIN now, and how it came to."""

    gtin: str = Field(description="GTIN-14.")
    manufacturer: str = Field(description="USCC of the manufacturer that owns the GTIN now.")
    history: list[GtinBinding]


class GtinAssigned(GtinOwner):
    """The owner after a reassignment, with the logged entry and its receipt."""

    logIndex: int
    logEntry: dict[str, Any]
    receipt: dict[str, Any]


class Problem(BaseModel):
    """RFC 9457 problem details (``errors``: JSON pointers into the request)."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str


GTIN_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No, unknown or revoked token."},
    403: {"model": Problem, "description": "The token lacks the ``authority`` scope."},
    409: {
        "model": Problem,
        "description": "The GTIN already belongs to that manufacturer, or changed meanwhile.",
    },
    422: {"model": Problem, "description": "A bad GTIN, USCC or reason (``errors``)."},
    503: {"model": Problem, "description": "The log did not commit the assignment."},
}

LABEL_PROBLEMS: dict[int | str, dict[str, Any]] = {
    409: {
        "model": Problem,
        "description": "``gtin-taken``: the GTIN belongs to another manufacturer (only the "
        "label authority can reassign it); or a reused idempotency key. Nothing is logged.",
    },
}


class RuleRef(BaseModel):
    id: str
    version: str


class GradeRequest(BaseModel):
    """``POST /grades``: grade a stored label under a published rule."""

    model_config = ConfigDict(extra="forbid")
    label: str = Field(description="Label number (GDCL-...) or label credential id")
    rule: RuleRef


def issued_body(issued: Issued) -> dict[str, Any]:
    body = issued.bundle()
    if issued.label_number is not None:
        body["labelNumber"] = issued.label_number
    if issued.digital_link is not None:
        body["digitalLink"] = issued.digital_link
    body["logIndex"] = issued.log_index
    return body


def item_problem(exc: IssuerError, pointer: str) -> dict[str, Any]:
    """An RFC 9457 problem for one item of a batch, its error pointers under ``pointer``.

    The same fields as the app's problem responses (app/problems.py) for the error.
    """
    body: dict[str, Any] = {
        "type": exc.code,
        "title": type(exc).__name__,
        "status": exc.status,
        "detail": exc.detail,
    }
    if isinstance(exc, InvalidRequest | GtinTaken) and exc.errors:
        body["errors"] = [{"pointer": pointer + e.pointer, "reason": e.reason} for e in exc.errors]
    return body


BATCH_DESCRIPTION = f"""Issue up to {MAX_BATCH} labels in one request (``issue`` scope).

Each label is validated, numbered and signed on its own; their log entries are
committed together. The answer (201) lists one result per label, in order: the
label bundle with ``"status": 201`` (as ``POST /labels`` returns it), or an RFC
9457 problem whose ``status`` says why that label was not issued (422 with error
pointers under ``/labels/<i>``, 403 for a category outside the issuer's scope,
409 ``gtin-taken`` for a GTIN that belongs to another manufacturer, 503 if the
log did not commit it). Nothing of a label that failed is stored.
With an ``Idempotency-Key``, label *i* is keyed ``<key>#<i>``: a retried batch
returns the labels already issued. The body is also bounded by the deployment's
request size limit (``CARBONLABEL_MAX_BODY_BYTES``).
"""


def issuer_router(
    service: IssuerService,
    directory: Directory,
    did_documents: Callable[[str | None], dict[str, Any]],
) -> APIRouter:
    """Routes over ``service``; ``did_documents(slug)`` builds a DID document (None: the
    deployment's own)."""
    router = APIRouter()

    def principal(
        authorization: Annotated[str | None, Header(description="Bearer <token>")] = None,
    ) -> Principal:
        return directory.authenticate(authorization)

    Caller = Annotated[Principal, Depends(principal)]
    IdempotencyKey = Annotated[
        str | None, Header(alias="Idempotency-Key", description="Retry-safe issuance key")
    ]

    @router.post(
        "/credentials/issue",
        status_code=201,
        tags=["issuer"],
        summary="VC-API issue",
        responses=LABEL_PROBLEMS,
    )
    def issue(body: IssueRequest, caller: Caller, idempotency_key: IdempotencyKey = None) -> Any:
        issued = service.issue_credential(caller, body.credential, idempotency_key=idempotency_key)
        return issued_body(issued)

    @router.post(
        "/labels",
        status_code=201,
        tags=["issuer"],
        summary="Issue a carbon label",
        responses=LABEL_PROBLEMS,
    )
    def issue_label(
        request: Annotated[
            dict[str, Any], Body(description="A LabelRequest (product, footprint…)")
        ],
        caller: Caller,
        response: Response,
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        issued = service.issue_label(caller, request, idempotency_key=idempotency_key)
        response.headers["Location"] = f"/labels/{issued.label_number}"
        return issued_body(issued)

    @router.post(
        "/labels/batch",
        status_code=201,
        tags=["issuer"],
        summary="Issue many carbon labels",
        description=BATCH_DESCRIPTION,
    )
    def issue_labels(
        body: LabelBatch, caller: Caller, idempotency_key: IdempotencyKey = None
    ) -> Any:
        keys = None
        if idempotency_key is not None:
            keys = [f"{idempotency_key}#{i}" for i in range(len(body.labels))]
        results = service.issue_labels(caller, body.labels, idempotency_keys=keys)
        items = [
            item_problem(result, f"/labels/{i}")
            if isinstance(result, IssuerError)
            else {"status": 201, **issued_body(result)}
            for i, result in enumerate(results)
        ]
        issued = sum(1 for item in items if item["status"] == 201)
        return {"issued": issued, "failed": len(items) - issued, "results": items}

    @router.get("/labels/{label_number}", tags=["labels"], summary="A label bundle")
    def label(label_number: str) -> Any:
        issued = service.label(label_number)
        body = issued_body(issued)
        body["grades"] = [g.bundle() for g in service.grades_of(issued.credential["id"])]
        body["status"] = service.status_of(issued.credential["id"])
        return body

    printing = Printing(service)
    immutable = {"Cache-Control": "public, max-age=86400"}

    @router.get("/labels/{label_number}/qr.png", tags=["labels"], summary="QR code (PNG)")
    def label_qr_png(label_number: str, scale: int = 8) -> Response:
        if not 1 <= scale <= 40:
            raise InvalidRequest("scale must be 1..40")
        link = _link(label_number)
        return Response(qr_png(link, scale=scale), media_type="image/png", headers=immutable)

    @router.get("/labels/{label_number}/qr.svg", tags=["labels"], summary="QR code (SVG)")
    def label_qr_svg(label_number: str) -> Response:
        link = _link(label_number)
        return Response(qr_svg(link, scale=4), media_type="image/svg+xml", headers=immutable)

    @router.get(
        "/labels/{label_number}/label.svg",
        tags=["labels"],
        summary="Printable label",
        description="A revoked or suspended label is stamped REVOKED / SUSPENDED across it "
        "(still served, so what was printed stays visible).",
    )
    def printable_svg(label_number: str) -> Response:
        info = printing.label_info(label_number)
        svg = label_svg(info, _link(label_number))
        return Response(svg, media_type="image/svg+xml", headers=PRINTABLE_CACHE)

    @router.get(
        "/labels/{label_number}/label.pdf",
        tags=["labels"],
        summary="Printable label",
        description="A revoked or suspended label is stamped REVOKED / SUSPENDED across it "
        "(still served, so what was printed stays visible).",
    )
    def printable_pdf(label_number: str) -> Response:
        info = printing.label_info(label_number)
        pdf = label_pdf(info, _link(label_number))
        return Response(pdf, media_type="application/pdf", headers=PRINTABLE_CACHE)

    @router.get(
        "/labels/{label_number}/offline-qr.png",
        tags=["labels"],
        summary="Offline QR: the compact signed label (DEFLATE + base45)",
    )
    def label_offline_qr(label_number: str, scale: int = 4) -> Response:
        document = printing.offline_credential(label_number)
        try:
            code = offline_qr(document)
        except OfflineQRTooLarge as exc:
            raise InvalidRequest(f"the offline credential does not fit a QR code: {exc}") from exc
        out = io.BytesIO()
        code.save(out, kind="png", scale=max(1, min(scale, 20)), border=4)
        return Response(out.getvalue(), media_type="image/png", headers=immutable)

    def _link(label_number: str) -> str:
        link = service.label(label_number).digital_link
        if link is None:
            raise NotFound(f"label {label_number} has no Digital Link")
        return link

    @router.post(
        "/gtins/{gtin}/assignment",
        status_code=201,
        tags=["gtins"],
        summary="Reassign a GTIN to another manufacturer (label authority)",
        response_model=GtinAssigned,
        responses=GTIN_PROBLEMS,
    )
    def reassign_gtin(gtin: str, body: GtinAssignmentRequest, caller: Caller) -> Any:
        """Only the label authority (token scope ``authority``) gives a GTIN to another
        manufacturer; the assignment is a logged ``gtin-assignment`` entry."""
        return service.reassign_gtin(caller, gtin, body.manufacturer, body.reason)

    @router.get(
        "/gtins/{gtin}",
        tags=["gtins"],
        summary="Who owns a GTIN, and its history",
        response_model=GtinOwner,
        responses={
            404: {"model": Problem, "description": "Never labelled nor assigned."},
            422: {"model": Problem, "description": "Not a GTIN."},
        },
    )
    def gtin_owner(gtin: str) -> Any:
        return service.gtin_owner(gtin)

    @router.post("/credentials/status", tags=["issuer"], summary="VC-API status update")
    def update_status(body: StatusRequest, caller: Caller) -> Any:
        state = service.set_status(
            caller,
            body.credentialId,
            body.credentialStatus.statusPurpose,
            body.status,
            reason=body.reason,
        )
        return {"credentialId": body.credentialId, "status": state}

    @router.post(
        "/grading-rules",
        status_code=201,
        tags=["grading"],
        summary="Publish a grading rule (label authority: `authority` scope)",
    )
    def publish_rule(rule: Annotated[dict[str, Any], Body()], caller: Caller) -> Any:
        return service.publish_rule(caller, rule)

    @router.get(
        "/grading-rules/{rule_id:path}/{version}", tags=["grading"], summary="A grading rule"
    )
    def get_rule(rule_id: str, version: str) -> Any:
        return JSONResponse(
            service.rule(rule_id, version), headers={"Cache-Control": "public, max-age=3600"}
        )

    @router.post("/grades", status_code=201, tags=["grading"], summary="Grade a label")
    def grade(body: GradeRequest, caller: Caller, idempotency_key: IdempotencyKey = None) -> Any:
        issued = service.grade_label(
            caller,
            label=body.label,
            rule_id=body.rule.id,
            rule_version=body.rule.version,
            idempotency_key=idempotency_key,
        )
        return issued_body(issued)

    @router.get("/status/{list_id}", tags=["status"], summary="A status-list credential")
    def status_list(list_id: str) -> Any:
        return JSONResponse(service.status_list(list_id), headers={"Cache-Control": STATUS_CACHE})

    @router.get("/.well-known/did.json", tags=["did"], summary="The deployment's DID document")
    def deployment_did() -> Any:
        return did_documents(None)

    @router.get("/issuers/{slug}/did.json", tags=["did"], summary="An issuer's DID document")
    def issuer_did(slug: str) -> Any:
        if not slug:
            raise InvalidRequest("issuer slug is empty")
        return did_documents(slug)

    return router
