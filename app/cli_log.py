"""``carbonlabel log ...``: operate and check the transparency log."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from app.runtime import ConfigurationError, Runtime, utcnow
from app.settings import load_settings
from credentials.errors import CredentialError
from ledger.audit import audit
from ledger.errors import AuditError, LedgerError, ReceiptError
from ledger.note import NoteVerifier
from ledger.receipt import Receipt, verify_receipt

log_app = typer.Typer(help="Operate and check the transparency log.", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


@contextmanager
def runtime() -> Iterator[Runtime]:
    """A Runtime for one command; configuration and ledger errors end the command cleanly."""
    rt = Runtime(load_settings())
    try:
        yield rt
    except (ConfigurationError, LedgerError, CredentialError) as exc:
        raise fail(str(exc)) from exc
    finally:
        rt.close()


def progress_bar(description: str) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


@log_app.command("init")
def init() -> None:
    """Create the store and the log key if absent (never overwrites either)."""
    with runtime() as rt:
        key_created, store_created = rt.init_log(utcnow())
        typer.echo(("created" if key_created else "kept existing") + " log key")
        typer.echo(("created" if store_created else "kept existing") + " log store")
        typer.echo(f"origin: {rt.settings.log_origin}")
        typer.echo(f"public key: {rt.log_signer.vkey()}")


@log_app.command("public-key")
def public_key() -> None:
    """Print the log's note verifier key: <origin>+<hex key id>+<base64 key>."""
    with runtime() as rt:
        typer.echo(rt.log_signer.vkey())


@log_app.command("append")
def append(
    lines: Annotated[
        Path, typer.Option("--lines", help="File with one entry per line (UTF-8).", exists=True)
    ],
) -> None:
    """Append every line of a file as one entry, in batches, with a progress bar."""
    with runtime() as rt:
        raw = lines.read_bytes().split(b"\n")
        if raw and raw[-1] == b"":
            raw.pop()
        for number, line in enumerate(raw, start=1):
            if not line.strip():
                raise fail(f"{lines}:{number}: empty line; every line must be an entry")
        batch = max(rt.settings.batch_size, 1)
        first: int | None = None
        size = rt.store.tree_size()
        with progress_bar("appending") as bar:
            task = bar.add_task("appending", total=len(raw))
            for start in range(0, len(raw), batch):
                chunk = raw[start : start + batch]
                appended = rt.store.integrate(chunk, rt.sign_checkpoint, utcnow())
                first = appended.first_index if first is None else first
                size = appended.size
                bar.advance(task, len(chunk))
        if first is None:
            typer.echo(f"nothing to append; tree size {size}")
        else:
            typer.echo(f"appended {len(raw)} entries at indexes {first}..{size - 1}")
            typer.echo(f"tree size {size}")


@log_app.command("checkpoint")
def checkpoint() -> None:
    """Print the newest signed checkpoint."""
    with runtime() as rt:
        typer.echo(rt.store.latest_checkpoint().note, nl=False)


@log_app.command("prove")
def prove(
    index: Annotated[int, typer.Argument(help="Index of the entry.", min=0)],
    size: Annotated[
        int | None, typer.Option(help="Prove against the checkpoint at this tree size.")
    ] = None,
    text: Annotated[
        bool, typer.Option("--text", help="Print the C2SP tlog-proof text instead of JSON.")
    ] = False,
) -> None:
    """Print a receipt for an entry: its checkpoint, index and inclusion proof.

    JSON output is {"entry": base64, "receipt": {...}}, which verify-receipt reads.
    """
    with runtime() as rt:
        receipt = rt.store.receipt(index, size)
        if text:
            typer.echo(receipt.to_text(), nl=False)
            return
        entry = rt.store.entry(index)
        bundle = {"entry": base64.b64encode(entry).decode(), "receipt": receipt.to_json()}
        typer.echo(json.dumps(bundle, indent=2))


def _load_receipt(path: Path) -> tuple[Receipt, bytes | None]:
    raw = path.read_bytes()
    if raw.startswith(b"c2sp.org/tlog-proof@v1"):
        return Receipt.parse_text(raw), None
    try:
        document: Any = json.loads(raw)
    except ValueError as exc:
        raise ReceiptError(f"{path} is neither JSON nor a tlog-proof: {exc}") from exc
    if isinstance(document, dict) and "receipt" in document:
        entry: bytes | None = None
        if "entry" in document:
            try:
                entry = base64.b64decode(document["entry"], validate=True)
            except (binascii.Error, TypeError) as exc:
                raise ReceiptError("entry: must be base64") from exc
        return Receipt.from_json(document["receipt"]), entry
    return Receipt.from_json(document), None


@log_app.command("verify-receipt")
def verify_receipt_command(
    file: Annotated[
        Path, typer.Argument(help="Receipt (JSON from `log prove`, or tlog-proof).", exists=True)
    ],
    public_key: Annotated[
        str | None,
        typer.Option(help="The log's verifier key; default: this deployment's log key."),
    ] = None,
    entry_file: Annotated[
        Path | None,
        typer.Option("--entry", help="File with the entry bytes, if the receipt has none."),
    ] = None,
) -> None:
    """Check a receipt offline with only the log's public key."""
    try:
        receipt, entry = _load_receipt(file)
        if entry_file is not None:
            entry = entry_file.read_bytes()
        if entry is None:
            raise fail("the receipt carries no entry: pass --entry FILE")
        if public_key is not None:
            verifier = NoteVerifier.from_vkey(public_key)
        else:
            with runtime() as rt:
                verifier = rt.log_verifier
        checkpoint = verify_receipt(receipt, entry, verifier)
    except LedgerError as exc:
        raise fail(str(exc)) from exc
    typer.echo(
        f"OK: entry {receipt.index} is in {checkpoint.origin} at tree size {checkpoint.size}"
    )


@log_app.command("audit")
def audit_command() -> None:
    """Recompute every tile and root from the entries and check every checkpoint."""
    with runtime() as rt:
        total = rt.store.tree_size()
        with progress_bar("auditing") as bar:
            task = bar.add_task("auditing", total=total)
            try:
                report = audit(
                    rt.store, rt.log_verifier, lambda done: bar.update(task, completed=done)
                )
            except AuditError as exc:
                raise fail(f"audit failed: {exc}") from exc
        typer.echo(
            f"OK: {report.entries} entries, {report.tiles} tiles and "
            f"{report.checkpoints} checkpoints agree; root "
            f"{base64.b64encode(report.root).decode()} at tree size {report.tree_size}"
        )
