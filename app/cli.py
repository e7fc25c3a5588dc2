"""The ``carbonlabel`` command line: ``main(argv) -> int``.

Each command group lives in its own module (``app/cli_log.py`` …) and is
mounted here. Settings come from ``CARBONLABEL_*`` environment variables.
"""

from __future__ import annotations

import sys

import click
import typer

from app.cli_audit import audit_command
from app.cli_credentials import credential_app, keys_app
from app.cli_gtin import gtin_app
from app.cli_issuer import demo, issue_app, issuer_app, label_app, token_app
from app.cli_log import log_app
from app.cli_serve import serve
from app.cli_verify import verify

cli = typer.Typer(
    name="carbonlabel",
    help="Carbon Label Ledger: verifiable product carbon labels and their transparency log.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cli.add_typer(log_app, name="log")
cli.add_typer(keys_app, name="keys")
cli.add_typer(credential_app, name="credential")
cli.add_typer(issuer_app, name="issuer")
cli.add_typer(token_app, name="token")
cli.add_typer(issue_app, name="issue")
cli.add_typer(label_app, name="label")
cli.add_typer(label_app, name="labels", hidden=True)  # `carbonlabel labels gaps` reads well too
cli.add_typer(gtin_app, name="gtin")
cli.command("demo")(demo)
cli.command("verify")(verify)
cli.command("serve")(serve)
cli.command("audit")(audit_command)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    command = typer.main.get_command(cli)
    try:
        result = command.main(args=argv, prog_name="carbonlabel", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    return result if isinstance(result, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
