"""The `vigil` command line: one sub-module per group of commands."""

from __future__ import annotations

import typer

from vigil.cli import dashboard, database, dataflow, ingest, models, pipelines, services, simulator
from vigil.cli import faces as faces_cli

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Vigil video surveillance")
dashboard.register(app)
database.register(app)
dataflow.register(app)
ingest.register(app)
models.register(app)
pipelines.register(app)
services.register(app)
simulator.register(app)
faces_cli.register(app)
