"""`vigil models prepare`: build the INT8 person detector ahead of time.

`vigil dataflow` builds it on first start otherwise (~30 s of CPU before the first frame);
scripts/setup.sh runs this so that the first `vigil up` does not wait.
"""

from __future__ import annotations

from pathlib import Path

import typer

from vigil.cli.common import bootstrap

models_app = typer.Typer(no_args_is_help=True, help="The detector's model files.")


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")


@models_app.command()
def prepare(
    calibration: Path = typer.Option(
        None,
        help="a video or a directory of images to calibrate on "
        "[VIGIL_DETECTOR_CALIBRATION_PATH, else the demo video]",
    ),
) -> None:
    """Build (or find in the cache) the INT8 copy of the person detector the dataflow loads."""
    settings = bootstrap("models")
    if settings.detector_backend != "onnx" or settings.detector_precision != "int8":
        typer.echo(
            f"nothing to prepare: the {settings.detector_backend} detector runs "
            f"{'fp32' if settings.detector_backend == 'onnx' else 'its own weights'} "
            "(VIGIL_DETECTOR_BACKEND=onnx with VIGIL_DETECTOR_PRECISION=int8 uses an INT8 copy)"
        )
        return
    from vigil.streaming.runtime import calibration_source, model_cache_dirs
    from vigil.vision import VisionError
    from vigil.vision.models import resolve_detector_model
    from vigil.vision.quantize import int8_model

    try:
        path = int8_model(
            resolve_detector_model(settings.detector_model_path),
            calibration.resolve() if calibration else calibration_source(settings),
            model_cache_dirs(settings),
            progress=True,
        )
    except (VisionError, ValueError) as exc:  # no footage, broken model: say what to fix
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"INT8 detector ready: {path}")
