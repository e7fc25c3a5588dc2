"""``carbonlabel gtin``: who owns a GTIN, and the label authority's reassignments.

A GTIN belongs to the manufacturer named by its first label, until the label
authority gives it to another one (issuer/gtins.py). ``reassign`` is the
operator's door to that decision, signed in the log as the deployment's
authority key (``did:key``); over HTTP the authority's token (scope
``authority``) uses ``POST /gtins/{gtin}/assignment``.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from app.cli_issuer import runtime
from app.runtime import AUTHORITY_KEY
from credentials.didkey import did_key_from_public_key
from issuer.errors import IssuerError

gtin_app = typer.Typer(help="GTIN owners (manufacturers) and reassignments.", no_args_is_help=True)
GtinArg = Annotated[str, typer.Argument(help="GTIN-8, -12, -13 or -14.")]


def _show_problems(exc: IssuerError) -> None:
    from app.cli_log import err

    for problem in getattr(exc, "errors", []):
        err.print(f"{problem.pointer}: {problem.reason}", highlight=False, markup=False)


@gtin_app.command("show")
def gtin_show(gtin: GtinArg) -> None:
    """The manufacturer that owns GTIN now, and every binding (JSON)."""
    with runtime() as rt:
        try:
            body = rt.issuer.gtin_owner(gtin)
        except IssuerError as exc:
            _show_problems(exc)
            raise
        typer.echo(json.dumps(body, indent=2, ensure_ascii=False))


@gtin_app.command("reassign")
def gtin_reassign(
    gtin: GtinArg,
    manufacturer: Annotated[str, typer.Option(help="The new owner's USCC (18 characters).")],
    reason: Annotated[str, typer.Option(help="Why (logged with the assignment).")],
) -> None:
    """Give GTIN to another manufacturer: a logged gtin-assignment entry by the authority."""
    with runtime() as rt:
        authority = did_key_from_public_key(rt.keystore.current(AUTHORITY_KEY).public_key())
        try:
            body = rt.issuer.assign_gtin(authority, gtin, manufacturer, reason)
        except IssuerError as exc:
            _show_problems(exc)
            raise
        typer.echo(
            f"GTIN {body['gtin']} now belongs to {body['manufacturer']} "
            f"(log index {body['logIndex']})"
        )
