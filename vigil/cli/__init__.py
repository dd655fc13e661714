"""The `vigil` command line: one sub-module per group of commands."""

from __future__ import annotations

import typer

from vigil.cli import (
    alerts,
    dashboard,
    database,
    dataflow,
    ingest,
    models,
    pipelines,
    services,
    simulator,
)
from vigil.cli import faces as faces_cli
from vigil.cli import sql as sql_command

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Vigil video surveillance")
alerts.register(app)
dashboard.register(app)
database.register(app)
dataflow.register(app)
ingest.register(app)
models.register(app)
pipelines.register(app)
services.register(app)
simulator.register(app)
sql_command.register(app)
faces_cli.register(app)
