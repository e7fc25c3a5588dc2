"""``carbonlabel audit``: the log, its newest checkpoint, and the store against the log.

Three steps, each naming the first thing that disagrees (exit 1):

1. the log audit (:mod:`ledger.audit`): every tile, root and checkpoint
   recomputed from the entries;
2. rollback (:mod:`ledger.rollback`): the store's newest checkpoint must extend
   the newest one this deployment ever signed (kept outside the database in
   ``<data dir>/checkpoint.latest``) and any ``--witness-checkpoint`` a witness
   or client saw;
3. the store audit (:mod:`issuer.audit`): credentials, status events, status-list
   versions and grading rules against the entries, streaming.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Annotated

import typer

from app.cli_log import fail, progress_bar, runtime
from app.runtime import Runtime
from issuer.audit import StoreAuditReport, audit_store
from issuer.errors import StoreAuditError
from ledger.audit import AuditReport, audit
from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.errors import LedgerError
from ledger.rollback import check_not_rolled_back


def _check_rollback(rt: Runtime, report: AuditReport, witness: list[Path]) -> list[str]:
    """Compare the audited tree with the kept and the witnessed checkpoints; what was
    compared, for the summary. Raises RollbackError, StoreError (the kept file is
    unreadable or not signed by the log) or typer.Exit (a witness file is)."""
    latest = Checkpoint(rt.store.origin(), report.tree_size, report.root)
    compared: list[str] = []
    kept = rt.latest_checkpoint_file.read()
    if kept is not None:
        where = f"{rt.latest_checkpoint_file.path} (the newest checkpoint this log signed)"
        check_not_rolled_back(latest, kept[1], rt.store.consistency_proof, where)
        compared.append(f"the kept checkpoint (tree size {kept[1].size})")
    for path in witness:
        try:
            seen = open_checkpoint(path.read_bytes(), rt.log_verifier)
        except OSError as exc:
            raise fail(f"{path}: cannot read: {exc.strerror}") from exc
        except LedgerError as exc:
            raise fail(f"{path}: not a checkpoint signed by this log's key: {exc}") from exc
        check_not_rolled_back(latest, seen, rt.store.consistency_proof, f"{path} (a witness)")
        compared.append(f"{path.name} (tree size {seen.size})")
    return compared


def audit_command(
    witness_checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            "--witness-checkpoint",
            help="A signed checkpoint a witness or client saw; the store must extend it "
            "(repeatable).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Audit the log, check it was not rolled back, then check the store against it."""
    with runtime() as rt:
        total = rt.store.tree_size()
        try:
            with progress_bar("auditing") as bar:
                log_task = bar.add_task("log", total=total)
                report = audit(
                    rt.store, rt.log_verifier, lambda done: bar.update(log_task, completed=done)
                )
                compared = _check_rollback(rt, report, witness_checkpoint or [])
                store_task = bar.add_task("store", total=report.tree_size)
                store = audit_store(
                    rt.engine,
                    rt.store,
                    report.tree_size,
                    lambda done: bar.update(store_task, completed=done),
                )
        except (LedgerError, StoreAuditError) as exc:
            raise fail(f"audit failed: {exc}") from exc
        _summary(report, store, compared)


def _summary(report: AuditReport, store: StoreAuditReport, compared: list[str]) -> None:
    root = base64.b64encode(report.root).decode()
    typer.echo(
        f"OK: log: {report.entries} entries, {report.tiles} tiles and {report.checkpoints} "
        f"checkpoints agree; root {root} at tree size {report.tree_size}"
    )
    if compared:
        typer.echo(f"OK: not rolled back: the store extends {', '.join(compared)}")
    else:
        typer.echo("note: no kept or witnessed checkpoint to compare with (rollback unchecked)")
    typer.echo(
        f"OK: store: {store.credentials} credentials, {store.status_events} status events, "
        f"{store.grading_rules} grading rules, {store.status_list_versions} versions of "
        f"{store.status_lists} status lists agree with the log "
        f"({store.other_entries} other entries)"
    )
