"""``carbonlabel issuer|token|issue|demo``: organisations, tokens, batch issuance, a demo."""

from __future__ import annotations

import json
import multiprocessing
import queue
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli_log import err, fail, progress_bar
from app.runtime import ConfigurationError, Runtime, freeze_loaded_objects, utcnow
from app.settings import load_settings
from credentials.errors import CredentialError
from issuer.batchfile import BatchRow, read_batch
from issuer.directory import SCOPES, Principal
from issuer.errors import IssuerError, NotFound
from issuer.qr import qr_png
from issuer.service import Issued
from ledger.errors import LedgerError

issuer_app = typer.Typer(help="Issuer organisations.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (shown once, stored hashed).", no_args_is_help=True)
issue_app = typer.Typer(help="Issue labels from files.", no_args_is_help=True)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEMO_SLUG = "gd-clc"
CHUNK = 256
"""Labels per batch of :meth:`IssuerService.issue_label_batches`: one sequencer batch (its
default size); one batch is signed while the one before commits."""


@contextmanager
def runtime() -> Iterator[Runtime]:
    rt = Runtime(load_settings())
    try:
        rt.store.origin()
        yield rt
    except (ConfigurationError, LedgerError, CredentialError, IssuerError) as exc:
        raise fail(str(exc)) from exc
    finally:
        rt.close()


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


@issuer_app.command("add")
def issuer_add(
    slug: Annotated[str, typer.Option(help="Short id used in URLs and the DID, e.g. gd-clc.")],
    name: Annotated[str, typer.Option(help="The organisation's name.")],
    uscc: Annotated[str, typer.Option(help="Unified Social Credit Code (18 characters).")],
    types: Annotated[
        str, typer.Option(help="Credential types it may issue (comma-separated).")
    ] = "CarbonLabelCredential,GradeResultCredential",
    categories: Annotated[
        str, typer.Option(help="Product categories it may issue for (comma-separated).")
    ] = "room-air-conditioner",
    authority: Annotated[
        bool,
        typer.Option(
            "--authority",
            help="This organisation is the deployment's label authority (one per "
            "deployment): only its tokens may hold the 'authority' scope.",
        ),
    ] = False,
) -> None:
    """Register an issuer organisation and create its signing key; prints its DID."""
    with runtime() as rt:
        org = rt.directory.add_org(
            slug=slug,
            name=name,
            uscc=uscc,
            credential_types=_csv(types),
            product_categories=_csv(categories),
            now=utcnow(),
            authority=authority,
        )
        typer.echo(org.did)


@issuer_app.command("authority")
def issuer_authority(slug: Annotated[str, typer.Argument(help="Issuer slug.")]) -> None:
    """Make an existing organisation the deployment's label authority (one per deployment)."""
    with runtime() as rt:
        org = rt.directory.make_authority(slug)
        typer.echo(f"{org.slug} is the label authority ({org.did})")


@issuer_app.command("list")
def issuer_list() -> None:
    """List issuer organisations."""
    with runtime() as rt:
        for org in rt.directory.orgs():
            role = "\tauthority" if org.authority else ""
            typer.echo(f"{org.slug}\t{org.uscc}\t{org.did}\t{org.name}{role}")


@issuer_app.command("show")
def issuer_show(slug: Annotated[str, typer.Argument(help="Issuer slug.")]) -> None:
    """Show an issuer (JSON): scopes, DID, keys and tokens (prefixes only)."""
    with runtime() as rt:
        org = rt.directory.org(slug)
        body = org.to_json()
        body["tokens"] = rt.directory.tokens(slug)
        body["didDocument"] = rt.did_document(slug)
        typer.echo(json.dumps(body, indent=2, ensure_ascii=False))


@token_app.command("new")
def token_new(
    issuer: Annotated[str, typer.Option(help="Issuer slug.")],
    scope: Annotated[
        list[str],
        typer.Option(
            help=f"Scope: {', '.join(SCOPES)} (repeatable). 'authority' only for the "
            "label authority's organisation.",
        ),
    ],
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
) -> None:
    """Create an API token; it is printed once, on the last line."""
    with runtime() as rt:
        token = rt.directory.new_token(issuer, scope, label, utcnow())
        typer.echo(f"token for {issuer} with scopes {' '.join(sorted(set(scope)))} (shown once):")
        typer.echo(token)


@token_app.command("revoke")
def token_revoke(token: Annotated[str, typer.Argument(help="The token or its prefix.")]) -> None:
    """Revoke a token; requests with it are refused from now on."""
    with runtime() as rt:
        rt.directory.revoke_token(token, utcnow())
        typer.echo("revoked")


def _issue_rows(
    rt: Runtime,
    principal: Principal,
    rows: list[BatchRow],
    key_prefix: str | None,
    out: Path | None,
    progress: Callable[[int], object],
) -> tuple[list[Issued], list[tuple[int, str]]]:
    """Issue every good row, CHUNK at a time (one log commit each); collect failures.

    ``progress(n)`` is told of every n rows done, issued or not.
    """
    issued: list[Issued] = []
    failures: list[tuple[int, str]] = [(r.line, "; ".join(r.errors)) for r in rows if r.errors]
    good = [r for r in rows if not r.errors and r.request is not None]
    chunks = [good[start : start + CHUNK] for start in range(0, len(good), CHUNK)]
    batches = (
        (
            [row.request for row in chunk if row.request is not None],
            [None if key_prefix is None else f"{key_prefix}-{row.line}" for row in chunk],
        )
        for chunk in chunks
    )
    for number, (chunk, results) in enumerate(
        zip(chunks, rt.issuer.issue_label_batches(principal, batches), strict=True)
    ):
        if number == 0:  # what the run keeps is loaded now
            freeze_loaded_objects()
        for row, result in zip(chunk, results, strict=True):
            if isinstance(result, IssuerError):
                errors = getattr(result, "errors", [])
                detail = "; ".join(f"{e.pointer}: {e.reason}" for e in errors) or result.detail
                failures.append((row.line, detail))
                continue
            issued.append(result)
            if out is not None:
                _write_outputs(out, result)
        progress(len(chunk))
    return issued, sorted(failures)


@contextmanager
def _issuing_bar(rows: list[BatchRow]) -> Iterator[Callable[[int], object]]:
    """A progress bar over the good rows; yields what to call with each number of rows done."""
    with progress_bar("issuing") as bar:
        task = bar.add_task("issuing", total=sum(1 for row in rows if not row.errors))
        yield lambda done: bar.advance(task, done)


def _issue_share(
    issuer: str, rows: list[BatchRow], out: Path, progress: Any
) -> tuple[int, list[tuple[int, str]]]:
    """One ``--workers`` process: issue ``rows`` with a runtime of its own.

    Returns how many labels it issued and the rows it could not issue. ``progress``
    is a queue the parent's progress bar reads. Raises RuntimeError with the reason
    if the deployment cannot be opened.
    """
    try:
        with runtime() as rt:
            principal = Principal(rt.directory.org(issuer), frozenset({"issue"}), "cli")
            issued, failures = _issue_rows(rt, principal, rows, None, out, progress.put)
    except typer.Exit as exc:  # runtime() printed why; the parent reports that the share failed
        raise RuntimeError(
            f"a worker could not open the deployment (exit {exc.exit_code})"
        ) from None
    return len(issued), failures


def _issue_in_parallel(
    issuer: str, rows: list[BatchRow], out: Path, workers: int
) -> tuple[int, list[tuple[int, str]]]:
    """``rows`` split into ``workers`` contiguous shares, each issued by its own process."""
    context = multiprocessing.get_context("spawn")
    share = -(-len(rows) // workers)
    shares = [rows[start : start + share] for start in range(0, len(rows), share)]
    issued, failures = 0, []
    with (
        context.Manager() as manager,
        ProcessPoolExecutor(len(shares), mp_context=context) as pool,
        _issuing_bar(rows) as advance,
    ):
        progress = manager.Queue()
        futures = [pool.submit(_issue_share, issuer, part, out, progress) for part in shares]
        while not all(future.done() for future in futures) or not progress.empty():
            try:
                advance(progress.get(timeout=0.1))
            except queue.Empty:
                continue
        for future in futures:
            count, failed = future.result()
            issued += count
            failures += failed
    return issued, sorted(failures)


def _write_outputs(out: Path, issued: Issued) -> None:
    number = issued.label_number or str(issued.log_index)
    (out / f"{number}.json").write_text(json.dumps(issued.bundle(), indent=2, ensure_ascii=False))
    (out / f"{number}.receipt.json").write_text(json.dumps(issued.receipt, indent=2))
    if issued.digital_link is not None:
        (out / f"{number}.png").write_bytes(qr_png(issued.digital_link, scale=8))


@issue_app.command("batch")
def issue_batch(
    file: Annotated[Path, typer.Argument(help="Labels as .csv or .jsonl.", exists=True)],
    issuer: Annotated[str, typer.Option(help="Issuer slug.")],
    out: Annotated[Path, typer.Option(help="Folder for credentials, receipts and QR images.")],
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Processes issuing at once, one core each. With more than one, each takes "
            "a contiguous share of the file, so label numbers and log order follow the file "
            "only within a share.",
        ),
    ] = 1,
) -> None:
    """Issue every row; bad rows are reported by line number and skipped."""
    with runtime() as rt:
        principal = Principal(rt.directory.org(issuer), frozenset({"issue"}), "cli")
        try:
            rows = list(read_batch(file))
        except ValueError as exc:
            raise fail(f"{file}: {exc}") from exc
        out.mkdir(parents=True, exist_ok=True)
        if workers == 1:
            with _issuing_bar(rows) as advance:
                done, failures = _issue_rows(rt, principal, rows, None, out, advance)
            issued = len(done)
        else:
            try:
                issued, failures = _issue_in_parallel(issuer, rows, out, workers)
            except RuntimeError as exc:
                raise fail(str(exc)) from exc
        for line, reason in failures:
            err.print(f"{file}:{line}: skipped: {reason}", highlight=False, markup=False)
        typer.echo(f"issued {issued} labels into {out}; skipped {len(failures)} bad rows")
        if failures and not issued:
            raise typer.Exit(1)


DEMO_ORG = {
    "slug": DEMO_SLUG,
    "name": "广东省碳标签专业委员会 (demo)",
    "uscc": "12440000MB2C401574",
    "credential_types": ["CarbonLabelCredential", "GradeResultCredential"],
    "product_categories": ["room-air-conditioner", "lithium-battery"],
}


def _demo_tokens(rt: Runtime) -> dict[str, str]:
    """The demo's tokens, kept in the data dir so a second run prints the same ones.

    ``admin`` is the demo organisation's own admin (its alerts), ``authority`` the label
    authority's (grading rules, every issuer's alerts); a file from before the
    authority role gets its ``authority`` token added.
    """
    path = rt.settings.data_dir / "demo-tokens.json"
    tokens: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    now = utcnow()
    wanted = {
        "admin": (["admin", "issue", "status"], "demo admin"),
        "issue": (["issue"], "demo issuing"),
        "authority": (["authority"], "demo label authority"),
    }
    missing = {key: spec for key, spec in wanted.items() if key not in tokens}
    if not missing:
        return tokens
    for key, (scopes, label) in missing.items():
        tokens[key] = rt.directory.new_token(DEMO_SLUG, scopes, label, now)
    path.write_text(json.dumps(tokens))
    path.chmod(0o600)
    return tokens


def seed_demo(rt: Runtime) -> dict[str, Any]:
    """Seed the demo issuer, tokens, grading rule and labels; idempotent.

    The demo organisation is the committee itself, so it is also the deployment's
    label authority, which publishes the grading rule.
    """
    try:
        org = rt.directory.make_authority(DEMO_SLUG)
    except NotFound:
        org = rt.directory.add_org(now=utcnow(), authority=True, **DEMO_ORG)  # type: ignore[arg-type]
    tokens = _demo_tokens(rt)
    admin = Principal(org, frozenset({"admin", "issue", "status"}), "demo")
    rule = json.loads((EXAMPLES / "grading-rule.json").read_text())
    rt.issuer.publish_rule(Principal(org, frozenset({"authority"}), "demo"), rule)
    rows = list(read_batch(EXAMPLES / "labels.csv"))
    with _issuing_bar(rows) as advance:
        issued, failures = _issue_rows(rt, admin, rows, "demo-label", None, advance)
    if failures:
        raise IssuerError(f"demo rows failed: {failures[:3]}")
    labels = []
    for bundle in issued:
        subject = bundle.credential["credentialSubject"]
        if subject["labelledProduct"]["productCategory"] == rule["productCategory"]:
            rt.issuer.grade_label(
                admin,
                label=bundle.credential["id"],
                rule_id=rule["id"],
                rule_version=rule["version"],
                idempotency_key=f"demo-grade-{bundle.label_number}",
            )
        labels.append(
            {
                "number": bundle.label_number,
                "uri": bundle.digital_link,
                "credential_id": bundle.credential["id"],
            }
        )
    return {"tokens": tokens, "issuer": org.did, "labels": labels}


def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Seed a demo issuer, tokens, a grading rule and the example labels (idempotent)."""
    with runtime() as rt:
        result = seed_demo(rt)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    typer.echo(f"issuer: {result['issuer']}")
    typer.echo(f"admin token: {result['tokens']['admin']}")
    typer.echo(f"authority token: {result['tokens']['authority']}")
    typer.echo(f"issue token: {result['tokens']['issue']}")
    for label in result["labels"]:
        typer.echo(f"{label['number']}\t{label['uri']}\t{label['credential_id']}")


@issue_app.command("label")
def issue_label(
    file: Annotated[Path, typer.Argument(help="A label request (JSON), e.g. examples/label.json.")],
    issuer: Annotated[str, typer.Option(help="Issuer slug.")],
    out: Annotated[Path, typer.Option(help="Writes OUT.json (bundle) and OUT.png (QR).")],
) -> None:
    """Issue one label; writes its bundle (credential, log entry, receipt) and QR code."""
    try:
        request = json.loads(file.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise fail(f"{file}: not a readable JSON document: {exc}") from exc
    with runtime() as rt:
        principal = Principal(rt.directory.org(issuer), frozenset({"issue"}), "cli")
        try:
            issued = rt.issuer.issue_label(principal, request)
        except IssuerError as exc:
            for problem in getattr(exc, "errors", []):
                err.print(f"{problem.pointer}: {problem.reason}", highlight=False, markup=False)
            raise
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".json").write_text(
            json.dumps(issued.bundle(), indent=2, ensure_ascii=False)
        )
        assert issued.digital_link is not None
        out.with_suffix(".png").write_bytes(qr_png(issued.digital_link, scale=8))
        typer.echo(f"{issued.label_number}\t{issued.digital_link}\tlog index {issued.log_index}")


label_app = typer.Typer(
    help="Change a label's status (each change is logged).", no_args_is_help=True
)
LabelArg = Annotated[str, typer.Argument(help="Label number or bundle file.")]


def _credential_id(rt: Runtime, label: str) -> str:
    path = Path(label)
    if path.suffix == ".json" and path.exists():
        document = json.loads(path.read_text("utf-8"))
        credential = document.get("verifiableCredential", document)
        return str(credential["id"])
    return str(rt.issuer.label(label).credential["id"])


def _set_status(label: str, purpose: str, value: bool) -> None:
    with runtime() as rt:
        credential_id = _credential_id(rt, label)
        row_org = rt.issuer.issued(credential_id).credential.get("issuer")
        did = row_org["id"] if isinstance(row_org, dict) else row_org
        org = next((o for o in rt.directory.orgs() if o.did == did), None)
        if org is None:
            raise fail(f"{label} was not issued by an issuer of this deployment")
        principal = Principal(org, frozenset({"status"}), "cli")
        state = rt.issuer.set_status(principal, credential_id, purpose, value)
        typer.echo(f"{label}: revoked={state['revocation']} suspended={state['suspension']}")


@label_app.command("revoke")
def label_revoke(label: LabelArg) -> None:
    """Revoke a label (permanent; its grades are revoked too)."""
    _set_status(label, "revocation", True)


@label_app.command("suspend")
def label_suspend(label: LabelArg) -> None:
    """Suspend a label (reversible with reinstate)."""
    _set_status(label, "suspension", True)


@label_app.command("reinstate")
def label_reinstate(label: LabelArg) -> None:
    """Lift a suspension."""
    _set_status(label, "suspension", False)
