from __future__ import annotations

import typer

from vigil.cli.common import bootstrap
from vigil.db import migrate as migrations
from vigil.db.session import session_scope
from vigil.seed import seed_demo


def register(app: typer.Typer) -> None:
    app.command()(migrate)
    app.command()(seed)


def migrate(
    revision: str = typer.Argument("head", help="target revision"),
    down: bool = typer.Option(False, "--down", help="downgrade to REVISION instead"),
) -> None:
    """Apply database migrations (Alembic)."""
    settings = bootstrap("migrate")
    url = settings.resolved_database_url
    if down:
        migrations.downgrade(url, revision)
    else:
        migrations.upgrade(url, revision)
    typer.echo(f"database at revision {migrations.current_revision(url)}")


def seed() -> None:
    """Create the demo user and demo camera (idempotent)."""
    settings = bootstrap("seed")
    with session_scope(settings.resolved_database_url) as session:
        result = seed_demo(session, settings)
    if result is None:
        typer.echo(
            "no demo user: production needs a VIGIL_DEMO_PASSWORD of your own for one "
            "(or sign up: the first account becomes the administrator)"
        )
        return
    typer.echo(
        f"demo user {settings.demo_email} (id {result.user_id}, "
        f"{'created' if result.created_user else 'exists'}); demo camera id {result.camera_id} "
        f"({'created' if result.created_camera else 'exists'})"
    )
