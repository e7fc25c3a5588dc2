"""``carbonlabel verify FILE | --qr IMAGE | --url URL [--offline]``: check a label anywhere.

Online, status lists, DID documents, the trust list and consistency proofs
come only from the configured server (``--server``, or the origin of
``--url``) and are cached; ``--offline`` uses the cache alone. The trust list
must verify against a pinned authority (``--authority did:key:…``, remembered
in the cache after the first use).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from app.cli_log import err, fail
from app.runtime import utcnow
from app.settings import load_settings
from credentials.dataintegrity import verify as verify_proof
from credentials.didweb import DidResolver, DidWebResolver
from credentials.errors import CredentialError
from credentials.vc import check_validity
from issuer.qr import OFFLINE_PREFIX, QRError, decode_offline
from verifier.checkpoints import CheckpointMemory, JsonFileCheckpointStore
from verifier.errors import VerifierError
from verifier.offline import VerificationCache
from verifier.pipeline import VerificationContext, verify_credential
from verifier.result import Outcome, Verification
from verifier.trustlist import load_trust_list

TIMEOUT = 10.0


def _fetcher(server: str) -> Any:
    def fetch(url: str) -> bytes:
        if not url.startswith(server.rstrip("/") + "/"):
            raise VerifierError(f"refusing to fetch {url}: not on {server}")
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
                data: bytes = response.read(5_000_000)
                return data
        except urllib.error.URLError as exc:
            raise VerifierError(f"cannot fetch {url}: {exc.reason}") from exc

    return fetch


def _decode_qr(image: Path) -> str:
    import zxingcpp
    from PIL import Image

    results = zxingcpp.read_barcodes(Image.open(image))
    if not results:
        raise fail(f"{image}: no QR code found")
    return str(results[0].text)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise fail(f"--url must be an http(s) URL, got {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def verify(
    file: Annotated[
        Path | None, typer.Argument(help="A label bundle or credential (JSON).")
    ] = None,
    qr: Annotated[Path | None, typer.Option(help="An image of a label's QR code.")] = None,
    url: Annotated[str | None, typer.Option(help="A label's GS1 Digital Link URL.")] = None,
    server: Annotated[
        str | None, typer.Option(help="The deployment to resolve status, DIDs and log from.")
    ] = None,
    authority: Annotated[
        str | None, typer.Option(help="did:key pinned as the trust list's signer.")
    ] = None,
    offline: Annotated[bool, typer.Option(help="Use only the cache; fetch nothing.")] = False,
    local: Annotated[
        bool, typer.Option(help="Check against this deployment's own data dir (operators).")
    ] = False,
    cache: Annotated[Path | None, typer.Option(help="Cache folder.")] = None,
) -> None:
    """Verify a label and print every check; exits non-zero unless it is verified."""
    if sum(x is not None for x in (file, qr, url)) != 1:
        raise fail("give exactly one of FILE, --qr IMAGE or --url URL")
    if local:
        _verify_local(file, qr, url)
        return
    settings = load_settings()
    folder = cache or settings.data_dir / "verify-cache"
    document: dict[str, Any] | None = None
    if qr is not None:
        text = _decode_qr(qr)
        if text.startswith(OFFLINE_PREFIX):
            try:
                document = {"offline": decode_offline(text)}
            except QRError as exc:
                raise fail(f"{qr}: {exc}") from exc
        else:
            url = text
    if url is not None:
        server = server or _origin(url)
        if offline:
            raise fail("--url needs the network; without it, verify a saved bundle or QR image")
    if server is not None and offline:
        server = None
    store = VerificationCache(folder, None if server is None else _fetcher(server), server)
    if url is not None:
        separator = "&" if "?" in url else "?"
        try:
            raw = store.get("bundle", f"{url}{separator}linkType=gs1:certificationInfo")
        except VerifierError as exc:
            raise fail(str(exc)) from exc
        document = json.loads(raw)
    if file is not None:
        try:
            document = json.loads(file.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise fail(f"{file}: not a readable JSON document: {exc}") from exc
    assert document is not None
    now = utcnow()
    resolver = DidResolver(
        DidWebResolver(
            store.did_document, ttl_seconds=300, clock=time.monotonic, allow_insecure_localhost=True
        )
    )
    if "offline" in document:
        _verify_offline_qr(document["offline"], resolver, now)
        return
    try:
        trust_list = load_trust_list(
            store.trust_list(), authority=store.authority(authority), now=now
        )
    except (VerifierError, CredentialError) as exc:
        raise fail(f"trust list: {exc}") from exc
    context = VerificationContext(
        now=now,
        trust_list=trust_list,
        resolve_method=resolver.resolve_verification_method,
        status_list=store.status_list,
        checkpoints=CheckpointMemory(JsonFileCheckpointStore(folder / "checkpoints.json")),
        consistency=None if server is None else store.consistency,
    )
    credential = document.get("verifiableCredential", document)
    bundle = document if "verifiableCredential" in document else None
    result = verify_credential(credential, bundle=bundle, ctx=context)
    if server is not None:
        store.stamp(now)
    _report(result)


def _report(result: Verification) -> None:
    for check in result.checks:
        colour = {"passed": "green", "failed": "red", "skipped": "yellow"}[check.outcome.value]
        reason = f"{check.reason}: " if check.reason else ""
        err.print(
            f"[{colour}]{check.outcome.value:7}[/] {check.name}: {reason}{check.message}",
            highlight=False,
        )
    for warning in result.warnings:
        err.print(f"[yellow]warning[/] {warning}", highlight=False)
    typer.echo(f"{result.verdict.value}: {'verified' if result.verified else 'NOT verified'}")
    if any(c.outcome is Outcome.FAILED for c in result.checks):
        raise typer.Exit(1)


def _verify_local(file: Path | None, qr: Path | None, url: str | None) -> None:
    """Verify against this deployment's own store, keys and trust list (no network)."""
    from app.runtime import Runtime
    from app.verifying import Verifying
    from schemas.digitallink import DigitalLinkError, parse_digital_link

    runtime = Runtime(load_settings())
    try:
        verifying = Verifying(runtime)
        if qr is not None:
            url = _decode_qr(qr)
            if url.startswith(OFFLINE_PREFIX):
                _verify_offline_qr(decode_offline(url), verifying.did_resolver, utcnow())
                return
        if url is not None:
            try:
                link = parse_digital_link(url)
            except DigitalLinkError as exc:
                raise fail(f"not a GS1 Digital Link: {exc}") from exc
            answer = verifying.service.resolve_link(link)
            record = answer.single
            if record is None and answer.records:
                for candidate in answer.records:
                    status = verifying.service.link_status(candidate)
                    typer.echo(f"{candidate.label_number}\t{status}")
                raise fail(
                    f"GTIN {link.gtin14} has {len(answer.records)} labels (listed above); "
                    "verify the URI printed on the label (it names the label: ?label=...)"
                )
            if record is None:
                raise fail(f"not found: {answer.detail} (possibly fake)")
            document: dict[str, Any] = dict(record.bundle)
        else:
            assert file is not None
            document = json.loads(file.read_text("utf-8"))
        credential = document.get("verifiableCredential", document)
        bundle = document if "verifiableCredential" in document else None
        _report(verifying.service.verify(credential, bundle))
    finally:
        runtime.close()


def _verify_offline_qr(document: dict[str, Any], resolver: DidResolver, now: Any) -> None:
    """An offline QR carries a compact credential: check its proof and validity."""
    try:
        proof = verify_proof(document, resolve_method=resolver.resolve_verification_method, now=now)
        check_validity(document, now)
    except CredentialError as exc:
        raise fail(f"offline label: {exc}") from exc
    subject = document.get("credentialSubject", {})
    typer.echo(
        f"genuine (offline): label {subject.get('labelNumber')} signed by "
        f"{proof.verification_method.controller}; {subject.get('pcf')} {subject.get('unit')} "
        f"{subject.get('boundary')}"
    )
