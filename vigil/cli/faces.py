"""`vigil faces evaluate DIR`: how well faces group into identities on a labelled folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import typer

from vigil.cli.common import bootstrap

faces_app = typer.Typer(no_args_is_help=True, help="Face identities.")


def register(app: typer.Typer) -> None:
    app.add_typer(faces_app, name="faces")


@faces_app.command()
def evaluate(
    directory: Path = typer.Argument(..., help="one sub-folder per person, photos inside"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Group the folder's faces as the running system does and score them against the folders."""
    settings = bootstrap("faces")
    from tqdm import tqdm

    from vigil.faces.evaluate import evaluate as run
    from vigil.vision import VisionError
    from vigil.vision.faces import create_face_backend

    bars: list[tqdm] = []

    def progress(total: int) -> Callable[[], None]:
        bars.append(tqdm(total=total, unit="photo", desc="faces", disable=None))
        return lambda: bars[-1].update()

    try:
        backend = create_face_backend(
            settings.face_backend, settings.face_model_dir, settings.insightface_model_pack
        )
        report = run(backend, directory, progress=progress)
    except (VisionError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        for bar in bars:
            bar.close()
    if as_json:
        typer.echo(json.dumps(report))
        return
    typer.echo(
        f"people {report['people']}, photos {report['images']}, faces found "
        f"{report['faces_found']} ({report['faces_found_fraction']:.1%}), identities "
        f"{report['identities']} ({report['unassigned']} faces unassigned)"
    )
    for key in ("purity", "completeness", "pairwise_precision", "pairwise_recall", "pairwise_f1"):
        typer.echo(f"{key:<20} {report[key]:.3f}")
