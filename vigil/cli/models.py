"""`vigil models prepare`: build the person detector's model files ahead of time.

The dataflow loads the model at two input sizes (regions and whole frames, rewritten from the
shipped export) and, by default, INT8 copies of them. `vigil dataflow` builds what is missing
on first start otherwise (~30 s of CPU per INT8 copy before the first frame); scripts/setup.sh
runs this so that the first `vigil up` does not wait.
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
    every_variant: bool = typer.Option(
        False, "--all", help="fp32 and INT8 at 320 and 640, not only what the settings use"
    ),
) -> None:
    """Build (or find in the cache) the detector files the dataflow loads."""
    settings = bootstrap("models")
    if settings.detector_backend != "onnx":
        typer.echo(
            f"nothing to prepare: the {settings.detector_backend} detector runs its own weights "
            "(VIGIL_DETECTOR_BACKEND=onnx uses resized and INT8 copies)"
        )
        return
    from vigil.streaming.runtime import calibration_source, model_cache_dirs
    from vigil.vision import VisionError
    from vigil.vision.models import resolve_detector_model
    from vigil.vision.quantize import int8_model
    from vigil.vision.resize_model import input_size_of, resized_model

    variants: list[tuple[str, int | None]]
    if every_variant:
        variants = [(p, s) for p in ("fp32", "int8") for s in (320, 640)]
    else:
        sizes = {settings.detector_frame_size, settings.detector_region_size} - {0}
        variants = [(settings.detector_precision, s) for s in sorted(sizes)] or [
            (settings.detector_precision, None)
        ]
    cache = model_cache_dirs(settings)
    prepared = 0
    try:
        source = resolve_detector_model(settings.detector_model_path)
        native = input_size_of(source)
        footage = calibration.resolve() if calibration else calibration_source(settings)
        for precision, size in variants:
            model = source if size in (None, native) else resized_model(source, size, cache)
            label = f"{size or native} px"
            if precision == "int8":
                model = int8_model(model, footage, cache, progress=True)
                typer.echo(f"INT8 detector ready ({label}): {model}")
                prepared += 1
            elif model != source:
                typer.echo(f"fp32 detector ready ({label}): {model}")
                prepared += 1
    except (VisionError, ValueError) as exc:  # no footage, broken model: say what to fix
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if not prepared:
        typer.echo(
            "nothing to prepare: the detector runs the model as shipped "
            "(VIGIL_DETECTOR_PRECISION=int8 or another VIGIL_DETECTOR_REGION_SIZE builds copies)"
        )
