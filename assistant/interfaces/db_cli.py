"""``advisor db``: the state databases' schema versions, and the upgrade that brings them up to date.

An administrator runs ``advisor db upgrade`` after installing a new release (the app also upgrades as
it starts, under a lock); ``advisor db status`` shows where each store stands without changing it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.interfaces.cli_common import emit_json, friendly, settings

db_app = typer.Typer(no_args_is_help=True, help="State databases: schema versions and upgrades.")


def _show(versions, as_json: bool) -> None:
    if as_json:
        emit_json([v.model_dump() for v in versions])
        return
    for v in versions:
        typer.echo(v.line)


@db_app.command()
@friendly
def upgrade(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Apply every migration a store lacks (feedback, progress, reviews, audit); rows are kept."""
    from assistant.database.migrate import upgrade_all

    _show(upgrade_all(settings()), as_json)


@db_app.command()
@friendly
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Each store's schema version and database (passwords hidden); changes nothing."""
    from assistant.database.migrate import status_all

    _show(status_all(settings()), as_json)
