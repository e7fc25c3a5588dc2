"""The verifier's public HTTP routes.

- VC-API ``POST /credentials/verify`` and ``POST /presentations/verify``:
  ``200 {verified: true, ...}`` or ``400 {verified: false, ..., errors}``.
- The GS1 Digital Link resolver ``GET /01/{gtin}[/10/{batch}][/21/{serial}][?label=…]``.
  The URI printed on a label names it (``?label=GDCL-…``,
  :func:`schemas.digitallink.label_link`) and resolves to that label whatever its
  status: no ``linkType`` → 307 to its scan page; ``gs1:certificationInfo`` /
  ``untp:dcc`` → its bundle; ``linkset`` / ``all`` → an RFC 9264 linkset. A label
  number issued for another product → 404. Without ``?label=`` (a retail barcode),
  the candidates are the item label of the serial, else the batch's labels, else the
  model labels, else (bare GTIN) every label of the GTIN: exactly one → as above;
  several → ``300 Multiple Choices`` listing each label with its status (valid,
  revoked, suspended, expired, invalid) and a link to its own scan page, as HTML or,
  for ``Accept: application/json`` or a ``linkType`` asking for one document, as
  JSON; ``linkset`` → one ``gs1:defaultLinkMulti`` per label. A scan never shows
  one label's verdict for another.
- The consumer scan page ``GET /scan/{label}``, badges, trust list and alerts.
"""

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select

from credentials.dataintegrity import verify as verify_proof
from credentials.errors import CredentialError
from schemas.digitallink import DigitalLinkError, DigitalLinkId, label_link, parse_digital_link
from schemas.vocabulary import GRADE_CREDENTIAL_TYPE
from verifier.badge import render_badge_svg
from verifier.binding import BadgeClaims
from verifier.i18n import negotiate_language
from verifier.linkset import (
    GS1_CERTIFICATION_INFO,
    GS1_DEFAULT_LINK_MULTI,
    LINKSET_MEDIA_TYPE,
    LINKSET_REL,
    UNTP_DCC,
    Link,
    expand_link_type,
    link_header,
    linkset,
)
from verifier.result import Check, Outcome, Verdict, Verification
from verifier.scanpage import (
    LabelChoice,
    ScanView,
    render_label_list,
    render_not_found,
    render_scan_page,
)
from verifier.service import LabelRecord, LinkAnswer, ScanOutcome, VerifierService

REGION_HEADER = "X-Carbonlabel-Region"


class VerifyOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    challenge: str | None = None
    domain: str | None = None


class VerifyCredentialRequest(BaseModel):
    """VC-API verify body; ``logEntry`` and ``receipt`` make it a label bundle."""

    verifiableCredential: dict[str, Any]
    options: VerifyOptions = Field(default_factory=VerifyOptions)
    logEntry: dict[str, Any] | None = None
    receipt: dict[str, Any] | None = None


class VerifyPresentationRequest(BaseModel):
    verifiablePresentation: dict[str, Any]
    options: VerifyOptions = Field(default_factory=VerifyOptions)


class FootprintClaim(BaseModel):
    value: str = Field(description="kg CO2e per declared unit, as a decimal string")
    unit: str | None = None
    boundary: str | None = None


class BadgeRequest(BaseModel):
    """What a listing shows: the label (its number or the VC) and what it claims."""

    model_config = ConfigDict(extra="forbid")
    credential: dict[str, Any] | None = None
    label: str | None = None
    gtin: str | None = None
    seller: str | None = Field(default=None, description="Seller's Unified Social Credit Code")
    grade: str | None = None
    footprint: FootprintClaim | None = None


def _vc_api(verification: Verification) -> JSONResponse:
    return JSONResponse(verification.to_vc_api(), status_code=200 if verification.verified else 400)


def verifier_router(
    service: VerifierService,
    *,
    summarize: Callable[[Mapping[str, Any]], Mapping[str, Any]],
    grade_summary: Callable[[Mapping[str, Any]], Mapping[str, Any]],
    trust_list: Callable[[], Mapping[str, Any]],
    alert_scope: Callable[[str | None], Select[Any] | None],
    log_origin: Callable[[], str],
    status_change: Callable[[str], Mapping[str, Any] | None] = lambda _: None,
) -> APIRouter:
    """The verifier's routes; ``summarize`` turns a label credential into the scan page's
    summary, ``grade_summary`` a grade credential into its grade block, and
    ``status_change(credential_id)`` gives the logged change behind a revoked or
    suspended label (``purpose``, ``at``, ``reason``, ``logIndex``; read only for such
    a verdict, at each scan). ``alert_scope(authorization header)`` decides which misuse
    alerts the caller sees: None for all of them (the label authority), or the label
    numbers of the caller's own organisation (see :meth:`VerifierService.alerts`); it
    raises to refuse. The router's lifespan writes the queued scans and alerts when the
    app shuts down."""

    @asynccontextmanager
    async def lifespan(_: object) -> AsyncIterator[None]:
        try:
            yield
        finally:
            service.close()

    router = APIRouter(lifespan=lifespan)

    def visible_alerts(
        authorization: Annotated[str | None, Header()] = None,
    ) -> Select[Any] | None:
        return alert_scope(authorization)

    @router.post("/credentials/verify", tags=["verifier"], summary="VC-API verify a credential")
    def verify_credential(body: VerifyCredentialRequest) -> JSONResponse:
        bundle = None
        if body.logEntry is not None or body.receipt is not None:
            bundle = {
                "verifiableCredential": body.verifiableCredential,
                "logEntry": body.logEntry,
                "receipt": body.receipt,
            }
        return _vc_api(service.verify(body.verifiableCredential, bundle))

    @router.post("/presentations/verify", tags=["verifier"], summary="VC-API verify a presentation")
    def verify_presentation(body: VerifyPresentationRequest) -> JSONResponse:
        presentation = body.verifiablePresentation
        checks: list[Check] = []
        try:
            verify_proof(
                presentation,
                resolve_method=service.context().resolve_method,
                expected_purpose="authentication",
                challenge=body.options.challenge,
                domain=body.options.domain,
                now=service.clock(),
            )
        except CredentialError as exc:
            reason = getattr(exc, "reason", type(exc).__name__)
            checks.append(Check("presentation-proof", Outcome.FAILED, str(exc), reason))
        else:
            checks.append(Check("presentation-proof", Outcome.PASSED, "holder proof verified"))
        embedded = presentation.get("verifiableCredential") or []
        embedded = embedded if isinstance(embedded, list) else [embedded]
        results = [service.verify(c) for c in embedded if isinstance(c, dict)]
        verified = checks[0].outcome is Outcome.PASSED and all(r.verified for r in results)
        response: dict[str, Any] = {
            "verified": verified,
            "checks": [c.name for c in checks if c.outcome is Outcome.PASSED],
            "presentationResult": {"results": [c.to_json() for c in checks]},
            "credentialResults": [r.to_vc_api() for r in results],
            "warnings": [],
        }
        if not verified:
            response["errors"] = [c.to_json() for c in checks if c.outcome is Outcome.FAILED]
            for result in results:
                response["errors"].extend(result.to_vc_api().get("errors", []))
        return JSONResponse(response, status_code=200 if verified else 400)

    @router.get("/01/{rest:path}", tags=["resolver"], summary="GS1 Digital Link resolver")
    def resolve(
        request: Request,
        rest: str,
        link_type: Annotated[str | None, Query(alias="linkType")] = None,
        lang: str | None = None,
        label: Annotated[
            str | None,
            Query(
                description="The label a printed label's QR code names "
                "(GDCL-YYYY-XX-NNNNNN); without it a GTIN with several labels "
                "answers 300 with the list of them."
            ),
        ] = None,
    ) -> Response:
        del label  # read, and checked, with the rest of the query by parse_digital_link
        language = negotiate_language(request.headers.get("accept-language"), lang)
        try:
            link = parse_digital_link("/01/" + rest + "?" + request.url.query)
        except DigitalLinkError as exc:
            raise HTTPException(
                400,
                detail={
                    "type": "invalid-digital-link",
                    "title": "Invalid GS1 Digital Link",
                    "detail": str(exc),
                },
            ) from exc
        answer = service.resolve_link(link)
        base = str(request.base_url).rstrip("/")
        anchor = f"{base}/01/{rest}" + (f"?label={link.label}" if link.label is not None else "")
        if not answer.records:
            service.record_unknown(link.gtin14, link.serial, _region(request))
            detail = answer.detail or f"no label was issued for GTIN {link.gtin14}"
            html = "html" in request.headers.get("accept", "")
            if not _wants_json(request) and (link_type is None or html):
                return HTMLResponse(render_not_found(language, link.gtin14, detail), 404)
            raise HTTPException(
                404, detail={"type": "not-issued", "title": "Not issued", "detail": detail}
            )
        if link_type is not None and link_type not in ("linkset", "all"):
            link_type = expand_link_type(link_type)
        record = answer.single
        if record is None:
            choices = _choices(service, summarize, answer, base, link, language)
            return _several(request, choices, link, anchor, link_type, language)
        links = _links(base, record)
        links.append(
            Link(
                LINKSET_REL,
                _with_query(anchor, "linkType=linkset"),
                LINKSET_MEDIA_TYPE,
                "All links for this product",
            )
        )
        if link_type in (GS1_CERTIFICATION_INFO, UNTP_DCC):
            return JSONResponse(dict(record.bundle), headers={"Link": link_header(links)})
        if link_type in ("linkset", "all"):
            return JSONResponse(
                linkset(anchor, links),
                media_type=LINKSET_MEDIA_TYPE,
                headers={"Link": link_header(links)},
            )
        query = {"gtin": link.gtin14, "lang": language}
        if link.serial is not None:
            query["serial"] = link.serial
        target = f"/scan/{record.label_number}?{urlencode(query)}"
        return RedirectResponse(target, status_code=307, headers={"Link": link_header(links)})

    @router.get(
        "/scan/{label_number}", tags=["resolver"], response_class=HTMLResponse, summary="Scan page"
    )
    def scan_page(
        request: Request,
        label_number: str,
        serial: str | None = None,
        gtin: str | None = None,
        region: str | None = None,
        lang: str | None = None,
    ) -> HTMLResponse:
        language = negotiate_language(request.headers.get("accept-language"), lang)
        record = service.labels.by_number(label_number)
        if record is None:
            detail = f"label {label_number} was never issued"
            return HTMLResponse(render_not_found(language, gtin, detail), 404)
        outcome = service.scan(
            record,
            serial=serial,
            gtin=gtin,
            region=region or _region(request),
            client=_client(request),
        )
        view = _view(
            language, outcome, summarize, grade_summary, str(request.base_url), log_origin()
        )
        if outcome.verdict in (Verdict.REVOKED, Verdict.SUSPENDED):
            view = replace(view, status_change=status_change(str(record.credential.get("id"))))
        return HTMLResponse(render_scan_page(view), headers={"Cache-Control": "no-store"})

    @router.post("/badges/verify", tags=["badges"], summary="Check a seller's badge")
    def badge_verify(body: BadgeRequest) -> Any:
        record, credential = _badge_subject(service, body)
        claims = BadgeClaims(
            gtin=body.gtin,
            seller=body.seller,
            grade=body.grade,
            footprint_value=_decimal(body.footprint.value) if body.footprint else None,
            footprint_unit=body.footprint.unit if body.footprint else None,
            boundary=body.footprint.boundary if body.footprint else None,
        )
        grade = record.grades[-1]["verifiableCredential"] if record and record.grades else None
        if body.credential is not None:  # the submitted document, never a stored stand-in
            results = service.badge_document(credential, record, claims)
            if _is_grade(credential):
                grade = credential
        elif record is not None:
            results = service.badge(record, claims)
        else:  # pragma: no cover - _badge_subject gives a record for a label number
            results = [service.verify(credential, None, claims)]
        verdict = results[0].verdict
        if verdict is Verdict.GENUINE:
            verdict = next(
                (r.verdict for r in results if r.verdict is not Verdict.GENUINE), verdict
            )
        reasons = [c.to_json() for r in results for c in r.checks if c.outcome is Outcome.FAILED]
        binding = results[-1].check("binding")
        return {
            "verified": all(r.verified for r in results),
            "verdict": verdict.value,
            "reasons": reasons,
            "binding": None if binding is None else binding.to_json(),
            "grade": None if grade is None else grade_summary(grade).get("grade"),
        }

    @router.get("/badges/{label_number}.svg", tags=["badges"], summary="Live badge image")
    def badge_svg(request: Request, label_number: str, lang: str | None = None) -> Response:
        language = negotiate_language(request.headers.get("accept-language"), lang)
        record = service.labels.by_number(label_number)
        if record is None:
            svg = render_badge_svg(
                lang=language,
                verdict=Verdict.NOT_FOUND,
                label_number=label_number,
                grade=None,
                footprint_value=None,
                footprint_unit=None,
            )
            return Response(svg, 404, media_type="image/svg+xml")
        verification = service.verify(record.credential, record.bundle)
        summary = summarize(record.credential)
        grade = grade_summary(record.grades[-1]["verifiableCredential"]) if record.grades else {}
        svg = render_badge_svg(
            lang=language,
            verdict=verification.verdict,
            label_number=label_number,
            grade=grade.get("grade"),
            footprint_value=None
            if summary.get("footprint_value") is None
            else str(summary["footprint_value"]),
            footprint_unit=f"kgCO2e/{summary.get('declared_unit')}",
        )
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "max-age=60"})

    @router.get("/trust-list.json", tags=["verifier"], summary="The signed trust list")
    def get_trust_list() -> Any:
        return JSONResponse(dict(trust_list()), headers={"Cache-Control": "public, max-age=300"})

    @router.get(
        "/alerts",
        tags=["verifier"],
        summary="Misuse alerts: every issuer's (authority), or one organisation's own (admin)",
    )
    def get_alerts(
        labels: Annotated[Select[Any] | None, Depends(visible_alerts)],
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        code: str | None = None,
    ) -> Any:
        return {"alerts": service.alerts(limit, code, labels)}

    return router


def _wants_json(request: Request) -> bool:
    """The client asked for JSON (``Accept: application/json``) and not for HTML."""
    accept = request.headers.get("accept", "").lower()
    return "json" in accept and "html" not in accept


def _with_query(uri: str, parameter: str) -> str:
    return f"{uri}{'&' if '?' in uri else '?'}{parameter}"


def _choices(
    service: VerifierService,
    summarize: Callable[[Mapping[str, Any]], Mapping[str, Any]],
    answer: LinkAnswer,
    base: str,
    link: DigitalLinkId,
    language: str,
) -> list[LabelChoice]:
    """The labels a Digital Link may mean, each with its status and its own scan page."""
    choices = []
    for record in answer.records:
        summary = summarize(record.credential)
        number = record.label_number
        query = {"gtin": link.gtin14, "lang": language}
        if link.serial is not None:
            query["serial"] = link.serial
        product = record.credential.get("credentialSubject", {}).get("labelledProduct", {})
        entry = record.bundle.get("logEntry") or {}
        products = entry.get("products") or {} if isinstance(entry, Mapping) else {}
        printed = None
        if isinstance(product, Mapping) and isinstance(product.get("digitalLink"), str):
            try:
                printed = label_link(product["digitalLink"], number)
            except DigitalLinkError:
                printed = None
        choices.append(
            LabelChoice(
                label_number=number,
                status=service.link_status(record),
                issuer_id=str(summary.get("issuer_id") or ""),
                issuer_name=str(summary.get("issuer_name") or ""),
                batch=products.get("batch") if isinstance(products, Mapping) else None,
                serial=products.get("serial") if isinstance(products, Mapping) else None,
                valid_from=str(summary.get("valid_from") or ""),
                valid_until=str(summary.get("valid_until") or ""),
                scan_url=f"{base}/scan/{number}?{urlencode(query)}",
                bundle_url=f"{base}/labels/{number}",
                printed_link=printed,
            )
        )
    return choices


def _several(
    request: Request,
    choices: list[LabelChoice],
    link: DigitalLinkId,
    anchor: str,
    link_type: str | None,
    language: str,
) -> Response:
    """A Digital Link that several labels may answer (no ``?label=``): never one of their
    verdicts, but the list of them with their statuses. ``300 Multiple Choices``
    (RFC 9110 §15.4.1) as HTML or JSON; a linkset (200) lists a link per label."""
    headers = {"Cache-Control": "no-store"}
    links = [
        Link(
            GS1_DEFAULT_LINK_MULTI,
            choice.scan_url,
            "text/html",
            f"Carbon label {choice.label_number} ({choice.status})",
            ("zh-Hans", "zh-Hant", "en", "pt"),
        )
        for choice in choices
    ] + [
        Link(
            GS1_CERTIFICATION_INFO,
            choice.bundle_url,
            "application/json",
            f"Carbon label {choice.label_number} credential and log receipt",
        )
        for choice in choices
    ]
    links.append(
        Link(LINKSET_REL, _with_query(anchor, "linkType=linkset"), LINKSET_MEDIA_TYPE, "All links")
    )
    headers["Link"] = link_header(links)
    if link_type in ("linkset", "all"):
        return JSONResponse(linkset(anchor, links), media_type=LINKSET_MEDIA_TYPE, headers=headers)
    if link_type is not None or _wants_json(request):
        body = {
            "type": "several-labels",
            "title": "Several labels",
            "detail": f"{len(choices)} labels were issued for this product; the URI printed "
            "on a label names it (?label=...)",
            "gtin": link.gtin14,
            "batch": link.batch,
            "serial": link.serial,
            "labels": [choice.to_json() for choice in choices],
        }
        return JSONResponse(body, status_code=300, headers=headers)
    page = render_label_list(language, link.gtin14, choices)
    return HTMLResponse(page, status_code=300, headers=headers)


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise HTTPException(
            422,
            detail={
                "type": "invalid-request",
                "title": "Invalid request",
                "detail": "footprint.value must be a decimal number",
                "errors": [{"pointer": "/footprint/value", "reason": "must be a decimal number"}],
            },
        ) from exc


def _badge_subject(
    service: VerifierService, body: BadgeRequest
) -> tuple[LabelRecord | None, dict[str, Any]]:
    if (body.credential is None) == (body.label is None):
        raise HTTPException(
            422,
            detail={
                "type": "invalid-request",
                "title": "Invalid request",
                "detail": "give exactly one of credential or label",
            },
        )
    if body.label is not None:
        record = service.labels.by_number(body.label)
        if record is None:
            raise HTTPException(
                404,
                detail={
                    "type": "not-issued",
                    "title": "Not issued",
                    "detail": f"label {body.label} was never issued",
                },
            )
        return record, record.credential
    assert body.credential is not None
    credential_id = body.credential.get("id")
    record = service.labels.by_credential(credential_id) if isinstance(credential_id, str) else None
    return record, body.credential


def _is_grade(credential: Mapping[str, Any]) -> bool:
    types = credential.get("type")
    return isinstance(types, list) and GRADE_CREDENTIAL_TYPE in types


def _region(request: Request) -> str | None:
    value = request.headers.get(REGION_HEADER)
    if value and len(value) <= 16 and all(c.isalnum() or c == "-" for c in value):
        return value.upper()
    return None


def _client(request: Request) -> str:
    host = request.client.host if request.client else "-"
    return f"{host}|{request.headers.get('user-agent', '')}"


def _links(base: str, record: LabelRecord) -> list[Link]:
    number = record.label_number
    links = [
        Link(
            "https://gs1.org/voc/defaultLink",
            f"{base}/scan/{number}",
            "text/html",
            "Carbon label verification",
            ("zh-Hans", "zh-Hant", "en", "pt"),
        ),
        Link(
            "https://gs1.org/voc/certificationInfo",
            f"{base}/labels/{number}",
            "application/json",
            "Carbon label credential and log receipt",
        ),
        Link(
            "https://gs1.org/voc/pip",
            f"{base}/labels/{number}/label.pdf",
            "application/pdf",
            "Printable carbon label",
        ),
        Link(
            "https://gs1.org/voc/certificationInfo",
            f"{base}/log/checkpoint",
            "text/plain",
            "Transparency log checkpoint",
        ),
    ]
    for entry in record.credential.get("credentialStatus") or []:
        url = entry.get("statusListCredential") if isinstance(entry, dict) else None
        if isinstance(url, str):
            links.append(
                Link(
                    "https://gs1.org/voc/certificationInfo",
                    url,
                    "application/json",
                    f"Status list ({entry.get('statusPurpose')})",
                )
            )
    for grade in record.grades:
        grade_id = grade["verifiableCredential"].get("id", "")
        links.append(
            Link(
                "https://gs1.org/voc/certificationInfo",
                f"{base}/labels/{number}",
                "application/json",
                f"Grade credential {grade_id}",
            )
        )
    return links


def _view(
    language: str,
    outcome: ScanOutcome,
    summarize: Callable[[Mapping[str, Any]], Mapping[str, Any]],
    grade_summary: Callable[[Mapping[str, Any]], Mapping[str, Any]],
    base: str,
    origin: str,
) -> ScanView:
    record = outcome.record
    receipt = record.bundle.get("receipt") or {}
    checkpoint = str(receipt.get("checkpoint", "")).split("\n")
    size = checkpoint[1] if len(checkpoint) > 1 else ""
    tree_size = int(size) if size.isascii() and size.isdigit() else None
    grade = None
    if outcome.grade_credential is not None and (
        outcome.grade is None or outcome.grade.verdict is Verdict.GENUINE
    ):
        grade = grade_summary(outcome.grade_credential)
    base = base.rstrip("/")
    return ScanView(
        lang=language,
        verdict=outcome.verdict,
        checks=outcome.verification.checks,
        warnings=tuple((f.code, f.detail) for f in outcome.findings)
        + tuple(("check", w) for w in outcome.verification.warnings),
        summary=summarize(record.credential),
        grade=grade,
        log_index=receipt.get("index"),
        tree_size=tree_size,
        log_origin=origin,
        recognitions=record.recognitions,
        links={
            "bundle": f"{base}/labels/{record.label_number}",
            "linkset": f"{base}/labels/{record.label_number}",
            "log": f"{base}/log/checkpoint",
        },
    )
