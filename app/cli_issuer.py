"""``carbonlabel issuer|token|issue|demo``: organisations, tokens, batch issuance, a demo."""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli_log import err, fail, progress_bar
from app.runtime import ConfigurationError, Runtime, freeze_loaded_objects, utcnow
from app.settings import load_settings
from credentials.errors import CredentialError
from issuer.allocate import skipped_numbers
from issuer.batchfile import BatchRow, read_batch, row_keys
from issuer.directory import SCOPES, Principal
from issuer.errors import InvalidRequest, IssuerError, NotFound
from issuer.gaps_http import parse_year
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
    keys: Mapping[int, str],
    out: Path | None,
    progress: Callable[[int], object],
) -> tuple[list[Issued], list[tuple[int, str]]]:
    """Issue every good row, CHUNK at a time (one log commit each); collect failures.

    ``keys`` are the rows' idempotency keys by line: a row issued before (by a run
    that stopped) comes back as it was, and its files are written if missing.
    ``progress(n)`` is told of every n rows done, issued or not.
    """
    issued: list[Issued] = []
    failures: list[tuple[int, str]] = [(r.line, "; ".join(r.errors)) for r in rows if r.errors]
    good = [r for r in rows if not r.errors and r.request is not None]
    chunks = [good[start : start + CHUNK] for start in range(0, len(good), CHUNK)]
    batches = (
        (
            [row.request for row in chunk if row.request is not None],
            [keys.get(row.line) for row in chunk],
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


@dataclass(frozen=True)
class _Tally:
    """What a run (or one ``--workers`` share of it) did."""

    new: int = 0
    resumed: int = 0
    failures: tuple[tuple[int, str], ...] = ()

    def __add__(self, other: _Tally) -> _Tally:
        return _Tally(
            self.new + other.new,
            self.resumed + other.resumed,
            tuple(sorted(self.failures + other.failures)),
        )


def _tally(issued: list[Issued], failures: list[tuple[int, str]], log_size: int) -> _Tally:
    """Rows logged before the run began (``log_size`` entries) were resumed, not issued."""
    resumed = sum(1 for label in issued if label.log_index < log_size)
    return _Tally(len(issued) - resumed, resumed, tuple(failures))


def _issue_share(
    issuer: str,
    rows: list[BatchRow],
    keys: dict[int, str],
    log_size: int,
    out: Path,
    progress: Any,
) -> _Tally:
    """One ``--workers`` process: issue ``rows`` with a runtime of its own.

    ``progress`` is a queue the parent's progress bar reads. Raises RuntimeError
    with the reason if the deployment cannot be opened.
    """
    try:
        with runtime() as rt:
            principal = Principal(rt.directory.org(issuer), frozenset({"issue"}), "cli")
            issued, failures = _issue_rows(rt, principal, rows, keys, out, progress.put)
    except typer.Exit as exc:  # runtime() printed why; the parent reports that the share failed
        raise RuntimeError(
            f"a worker could not open the deployment (exit {exc.exit_code})"
        ) from None
    return _tally(issued, failures, log_size)


def _issue_in_parallel(
    issuer: str, rows: list[BatchRow], keys: dict[int, str], log_size: int, out: Path, workers: int
) -> _Tally:
    """``rows`` split into ``workers`` contiguous shares, each issued by its own process."""
    context = multiprocessing.get_context("spawn")
    share = -(-len(rows) // workers)
    shares = [rows[start : start + share] for start in range(0, len(rows), share)]
    total = _Tally()
    with (
        context.Manager() as manager,
        ProcessPoolExecutor(len(shares), mp_context=context) as pool,
        _issuing_bar(rows) as advance,
    ):
        progress = manager.Queue()
        futures = [
            pool.submit(_issue_share, issuer, part, keys, log_size, out, progress)
            for part in shares
        ]
        while not all(future.done() for future in futures) or not progress.empty():
            try:
                advance(progress.get(timeout=0.1))
            except queue.Empty:
                continue
        for future in futures:
            total = total + future.result()
    return total


def _write_outputs(out: Path, issued: Issued) -> None:
    """The label's bundle, receipt and QR PNG; a file already complete is left as it is.

    Each file is written to a temporary name and renamed, so a run killed mid-write
    leaves no half file under the final name; a file that is there but incomplete
    (written by an older version that wrote in place) is written again.
    """
    number = issued.label_number or str(issued.log_index)
    bundle = out / f"{number}.json"
    if not _complete_json(bundle):
        _write_atomically(
            bundle, json.dumps(issued.bundle(), indent=2, ensure_ascii=False).encode()
        )
    receipt = out / f"{number}.receipt.json"
    if not _complete_json(receipt):
        _write_atomically(receipt, json.dumps(issued.receipt, indent=2).encode())
    png = out / f"{number}.png"
    if issued.digital_link is not None and not _complete_png(png):
        _write_atomically(png, qr_png(issued.digital_link, scale=8))


def _complete_json(path: Path) -> bool:
    try:
        json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return True


_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def _complete_png(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            if file.read(8) != b"\x89PNG\r\n\x1a\n":
                return False
            file.seek(-len(_PNG_END), os.SEEK_END)
            return file.read() == _PNG_END
    except OSError:
        return False


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


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
    run: Annotated[
        str | None,
        typer.Option(
            help="Name a new set of row keys: rows identical to ones issued before (by any "
            "file) are then issued again instead of resumed.",
        ),
    ] = None,
) -> None:
    """Issue every row; bad rows are reported by line number and skipped.

    Safe to run again after a crash or kill: each row is keyed by its own content
    (and which identical row of the file it is), so rows issued before are not
    issued twice, and their missing output files are written.
    """
    with runtime() as rt:
        principal = Principal(rt.directory.org(issuer), frozenset({"issue"}), "cli")
        try:
            rows = list(read_batch(file))
            keys = row_keys(rows, run)
        except ValueError as exc:
            raise fail(f"{file}: {exc}") from exc
        out.mkdir(parents=True, exist_ok=True)
        log_size = rt.store.tree_size()
        if workers == 1:
            with _issuing_bar(rows) as advance:
                done, failures = _issue_rows(rt, principal, rows, keys, out, advance)
            tally = _tally(done, failures, log_size)
        else:
            try:
                tally = _issue_in_parallel(issuer, rows, keys, log_size, out, workers)
            except RuntimeError as exc:
                raise fail(str(exc)) from exc
        for line, reason in tally.failures:
            err.print(f"{file}:{line}: skipped: {reason}", highlight=False, markup=False)
        issued = tally.new + tally.resumed
        typer.echo(
            f"issued {issued} labels into {out} ({tally.new} new, {tally.resumed} resumed: "
            f"issued by an earlier run of these rows); skipped {len(tally.failures)} bad rows"
        )
        if tally.failures and not issued:
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
        keys = {row.line: f"demo-label-{row.line}" for row in rows}
        issued, failures = _issue_rows(rt, admin, rows, keys, None, advance)
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


ReasonOption = Annotated[
    str | None,
    typer.Option(
        "--reason",
        help="Why (logged in the status entry and shown on the scan page; at most 500 characters).",
    ),
]


def _set_status(label: str, purpose: str, value: bool, reason: str | None) -> None:
    with runtime() as rt:
        credential_id = _credential_id(rt, label)
        row_org = rt.issuer.issued(credential_id).credential.get("issuer")
        did = row_org["id"] if isinstance(row_org, dict) else row_org
        org = next((o for o in rt.directory.orgs() if o.did == did), None)
        if org is None:
            raise fail(f"{label} was not issued by an issuer of this deployment")
        principal = Principal(org, frozenset({"status"}), "cli")
        try:
            state = rt.issuer.set_status(principal, credential_id, purpose, value, reason=reason)
        except IssuerError as exc:
            for problem in getattr(exc, "errors", []):
                err.print(f"{problem.pointer}: {problem.reason}", highlight=False, markup=False)
            raise
        typer.echo(f"{label}: revoked={state['revocation']} suspended={state['suspension']}")


@label_app.command("revoke")
def label_revoke(label: LabelArg, reason: ReasonOption = None) -> None:
    """Revoke a label (permanent; its grades are revoked too). --reason is required."""
    if reason is None or not reason.strip():
        raise fail(
            "--reason TEXT is required to revoke a label: say why (it is logged with the "
            "revocation and shown to everyone who scans the label)",
            code=2,
        )
    _set_status(label, "revocation", True, reason)


@label_app.command("suspend")
def label_suspend(label: LabelArg, reason: ReasonOption = None) -> None:
    """Suspend a label (reversible with reinstate)."""
    _set_status(label, "suspension", True, reason)


@label_app.command("reinstate")
def label_reinstate(label: LabelArg, reason: ReasonOption = None) -> None:
    """Lift a suspension."""
    _set_status(label, "suspension", False, reason)


@label_app.command("gaps")
def label_gaps(
    year: Annotated[str | None, typer.Option(help="Four-digit year (default: all).")] = None,
    org: Annotated[str | None, typer.Option(help="Issuer slug (default: all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """List label numbers that no logged label carries, and why (reserved, never logged).

    Label numbers are reserved in blocks before signing; a number a process did not
    use is never handed out again, so it shows here rather than as a missing label.
    """
    try:
        wanted = parse_year(year)
    except InvalidRequest as exc:
        raise fail(f"--year: {exc.errors[0].reason}: a four-digit year") from exc
    with runtime() as rt:
        try:
            ranges = skipped_numbers(rt.engine, wanted, org)
        except LookupError as exc:
            raise fail(f"--org: {exc.args[0]}") from exc
    skipped = sum(gap.count for gap in ranges)
    if as_json:
        body: dict[str, Any] = {"year": wanted, "issuer": org, "skipped": skipped}
        body["ranges"] = [gap.to_json() for gap in ranges]
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    for gap in ranges:
        item = gap.to_json()
        span = item["first"] if gap.count == 1 else f"{item['first']}..{item['last']}"
        typer.echo(
            f"{span}\t{gap.count}\t{gap.reason}\t{gap.issuer or '-'}\t{gap.holder or '-'}"
            f"\treserved {item['reservedAt'] or '-'}\treturned {item['returnedAt'] or '-'}"
        )
    typer.echo(f"{skipped} label numbers skipped (reserved, never on a logged label)")
