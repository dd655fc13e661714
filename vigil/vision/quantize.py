"""INT8 copies of a YOLO ONNX detector: static quantization calibrated on real frames, cached.

onnxruntime's static QDQ quantization (uint8 activations, per-channel int8 weights) runs the
shipped YOLOv8s about 3x faster per CPU core with the same detections. Two things decide it:
- the Detect head's post-processing stays float. Its last Concat joins boxes in pixels (0..640)
  with class scores (0..1): one uint8 scale for both rounds every score to 0 (no detections);
- calibration frames go through the detector's own letterbox, so the ranges measured are the
  ranges the model sees.

A build takes 15-30 s on two cores, so the result is cached by content, named
`<source sha256[:16]>-int8-<calibration digest[:16]>.onnx`, written atomically under a file lock
(several dataflow processes starting at once build it once).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import platform
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import cv2
import numpy as np
from tqdm import tqdm

from vigil.logs import get_logger
from vigil.vision.detector import DetectorConfig, OnnxYoloDetector, letterbox
from vigil.vision.errors import VisionError
from vigil.vision.frames import Frame
from vigil.vision.models import resolve_detector_model

if TYPE_CHECKING:
    import onnx

log = get_logger(__name__)

Precision = Literal["int8", "fp32"]
CALIBRATION_SETTING = "VIGIL_DETECTOR_CALIBRATION_PATH"
# Part of the calibration digest: change it whenever the recipe below changes, so that caches
# built by the old recipe are not reused.
RECIPE = "qdq-u8s8-per-channel-float-head-native-crops-v3"
CALIBRATION_FRAMES = 40  # measured: enough for min/max ranges; more only costs build time
MIN_CALIBRATION_FRAMES = 8
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
_LAYER = re.compile(r"^/model\.(\d+)/")  # Ultralytics export node names: /model.<layer>/...


class QuantizationError(VisionError, RuntimeError):
    """No INT8 model could be built (no calibration frames, missing packages...): use fp32."""


def shared_cache_dir() -> Path:
    """A per-user cache beside the data dir's: a build is keyed by content, so every data dir
    of this user (tests, benchmarks, a second install) can reuse it instead of a minute's work."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vigil" / "models"


# --- calibration frames ------------------------------------------------------------------------
def calibration_indices(total: int, count: int) -> list[int]:
    """`count` frame indices spread over `total`: the middle of `count` equal stretches."""
    if total <= count:
        return list(range(total))
    return [(2 * i + 1) * total // (2 * count) for i in range(count)]


def _images(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def read_calibration_frames(source: Path, count: int = CALIBRATION_FRAMES) -> list[Frame]:
    """Frames spread over a video, or images spread over a directory's sorted listing."""
    frames: list[Frame] = []
    if source.is_dir():
        images = _images(source)
        for i in calibration_indices(len(images), count):
            image = cv2.imread(str(images[i]))
            if image is not None:
                frames.append(np.asarray(image, np.uint8))
    else:
        cap = cv2.VideoCapture(str(source))
        # An unknown length (some streams) reads the first 10 x count frames.
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or count * 10
        wanted = set(calibration_indices(total, count))
        for index in range(max(wanted, default=-1) + 1):
            ok, frame = cap.read()  # sequential: seeking is inexact in many codecs
            if not ok:
                break
            if index in wanted:
                frames.append(np.asarray(frame, np.uint8))
        cap.release()
    if len(frames) < min(count, MIN_CALIBRATION_FRAMES):
        raise QuantizationError(
            f"calibration source {source} gave {len(frames)} readable frames, INT8 calibration "
            f"needs {min(count, MIN_CALIBRATION_FRAMES)}: set {CALIBRATION_SETTING} to a video "
            "or a directory of images like your cameras' views"
        )
    return frames


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        yield from iter(lambda: f.read(1 << 20), b"")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    for chunk in _chunks(path):
        digest.update(chunk)
    return digest.hexdigest()


def calibration_digest(source: Path, count: int, reduce_range: bool) -> str:
    """What the INT8 weights depend on besides the model: the recipe and the calibration bytes."""
    digest = hashlib.sha256(f"{RECIPE}|{count}|reduce_range={reduce_range}".encode())
    for path in _images(source) if source.is_dir() else [source]:
        digest.update(path.name.encode())
        for chunk in _chunks(path):
            digest.update(chunk)
    return digest.hexdigest()


# --- the recipe --------------------------------------------------------------------------------
def head_nodes_to_exclude(graph: onnx.GraphProto) -> list[str]:
    """The non-Conv nodes of the last detection head, which must stay float.

    Ultralytics exports name nodes `/model.<layer>/...`; the head is the layer of the node that
    produces the output (else the highest layer). Without such names, everything between the
    output and the nearest Conv layers, walking back from the output."""
    producers = {out: node for node in graph.node for out in node.output}
    output_node = producers.get(graph.output[0].name)
    match = _LAYER.match(output_node.name) if output_node is not None else None
    if match is None:
        layers = [int(m[1]) for node in graph.node if (m := _LAYER.match(node.name))]
        prefix = f"/model.{max(layers)}/" if layers else None
    else:
        prefix = match[0]
    if prefix is not None:
        return [n.name for n in graph.node if n.name.startswith(prefix) and n.op_type != "Conv"]
    excluded: list[str] = []
    seen: set[int] = set()
    stack = [output_node] if output_node is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen or node.op_type == "Conv":
            continue
        seen.add(id(node))
        excluded.append(node.name)
        stack += [producers[i] for i in node.input if i in producers]
    return excluded


def needs_reduce_range() -> bool:
    """7-bit weights on x86 without VNNI: there uint8 x int8 pairs are summed in int16 and
    saturate (onnxruntime's guidance); VNNI cores and ARM accumulate in int32."""
    if platform.machine().lower() not in {"x86_64", "amd64", "i386", "i686"}:
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return True  # unknown: the safe choice
    return not re.search(r"\b(avx512_vnni|avx_vnni)\b", flags)


def calibration_inputs(frames: Sequence[Frame], side: int) -> Iterator[tuple[Frame, bool]]:
    """(image, is a whole frame): every frame whole and, for a model input smaller than the
    frames, a square of the input's size at native resolution from each, as regions send it;
    its place cycles over a 3x3 grid. Whole frames alone would calibrate a small model on
    shrunken people only: positive class logits never seen, every score clipped to 0.5."""
    for i, frame in enumerate(frames):
        yield frame, True
        h, w = frame.shape[:2]
        if max(h, w) > 1.25 * side:
            x = round((i % 3) / 2 * max(0, w - side))
            y = round((i // 3 % 3) / 2 * max(0, h - side))
            yield frame[y : y + side, x : x + side], False


class _Reader:
    """onnxruntime's CalibrationDataReader protocol over letterboxed frames, with progress."""

    def __init__(
        self, frames: Sequence[Frame], size: tuple[int, int], input_name: str, bar: tqdm[None]
    ) -> None:
        self._inputs = calibration_inputs(frames, min(size))
        self._size, self._input_name, self._bar = size, input_name, bar

    def get_next(self) -> dict[str, np.ndarray] | None:
        found = next(self._inputs, None)
        if found is None:
            return None
        image, whole = found
        if whole:
            self._bar.update()
        return {self._input_name: letterbox(image, self._size)[0]}


def _quantize(
    reference: OnnxYoloDetector, frames: Sequence[Frame], out: Path, bar: tqdm[None]
) -> None:
    """The reference (fp32) model -> out (INT8 QDQ); scratch files beside `out`."""
    try:  # deferred and optional: only building an INT8 model needs them
        import onnx
        from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
        from onnxruntime.quantization.shape_inference import quant_pre_process
    except ImportError as exc:
        raise QuantizationError(
            f"building the INT8 detector needs the onnx and sympy packages ({exc})"
        ) from exc

    from vigil.vision.resize_model import is_dynamic_batch, set_batch

    source = reference.model_path
    pre = out.with_name("preprocessed.onnx")
    bar.set_postfix_str("optimising the graph")
    # Symbolic shape inference needs a fixed batch: a batch-dynamic graph is quantized at
    # batch 1 and made dynamic again afterwards.
    dynamic = is_dynamic_batch(onnx.load(str(source), load_external_data=False))
    fixed = source
    if dynamic:
        fixed = out.with_name("batch1.onnx")
        onnx.save(set_batch(onnx.load(str(source)), dynamic=False), str(fixed))
    quant_pre_process(str(fixed), str(pre))  # shape inference + fusions, as onnxruntime advises
    graph = onnx.load(str(pre)).graph
    exclude = head_nodes_to_exclude(graph)
    bar.update()
    bar.set_postfix_str("calibrating")
    reader = _Reader(frames, reference.input_size, graph.input[0].name, bar)
    quantize_static(
        str(pre),
        str(out),
        reader,  # a CalibrationDataReader by its methods (onnxruntime duck-types it)
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        reduce_range=needs_reduce_range(),
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=exclude,
    )
    # The Ultralytics metadata (class names, imgsz) is what the detector reads its classes from.
    quantized = onnx.load(str(out))
    if dynamic:
        quantized = set_batch(quantized, dynamic=True)
    del quantized.metadata_props[:]
    quantized.metadata_props.extend(onnx.load(str(source), load_external_data=False).metadata_props)
    onnx.save(quantized, str(out))
    bar.set_postfix_str("checking")
    OnnxYoloDetector(out, DetectorConfig(threads=1))  # never cache a file that does not load
    bar.update()


# --- the cache -----------------------------------------------------------------------------------
@contextmanager
def _locked(directory: Path, name: str) -> Iterator[None]:
    with (directory / f".{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def _cached(name: str, cache_dirs: Sequence[Path]) -> Path | None:
    return next((d / name for d in cache_dirs if (d / name).is_file()), None)


def _publish(built: Path, others: Sequence[Path]) -> None:
    """Best effort: a read-only or full shared cache only costs the next data dir a rebuild."""
    for directory in others:
        part = directory / f".{built.name}.{os.getpid()}.part"
        try:
            directory.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(built, part)
            os.replace(part, directory / built.name)
        except OSError as exc:
            part.unlink(missing_ok=True)
            log.info("int8_model_not_shared", directory=str(directory), error=str(exc))


def int8_model(
    source: Path,
    calibration: Path | None,
    cache_dirs: Sequence[Path],
    *,
    frames: int = CALIBRATION_FRAMES,
    progress: bool | None = None,
) -> Path:
    """The INT8 copy of `source`: from the first cache dir holding it, else built into
    `cache_dirs[0]` (and copied to the others). Without calibration footage an existing build
    of the same model is reused, else QuantizationError. `progress`: None = on a terminal."""
    if not cache_dirs:
        raise ValueError("int8_model needs at least one cache directory")
    source_sha = file_sha256(source)[:16]
    if calibration is None:
        builds = [p for d in cache_dirs for p in d.glob(f"{source_sha}-int8-*.onnx")]
        if builds:
            return max(builds, key=lambda p: p.stat().st_mtime)
        raise QuantizationError(
            f"no calibration footage for the INT8 detector: set {CALIBRATION_SETTING} (a video "
            "or a directory of images) or VIGIL_DEMO_VIDEO"
        )
    if not calibration.exists():
        raise QuantizationError(
            f"calibration source {calibration} does not exist: check {CALIBRATION_SETTING}"
        )
    target = cache_dirs[0]
    try:
        digest = calibration_digest(calibration, frames, needs_reduce_range())[:16]
        name = f"{source_sha}-int8-{digest}.onnx"
        found = _cached(name, cache_dirs)
        if found is not None:
            return found
        target.mkdir(parents=True, exist_ok=True)
        with _locked(target, name):
            found = _cached(name, cache_dirs)  # built by another process while we waited
            if found is not None:
                return found
            for stale in target.glob(f".{name}.build-*"):  # a builder killed mid-way
                shutil.rmtree(stale, ignore_errors=True)
            built = _build(source, calibration, frames, target / name, progress)
    except OSError as exc:
        if isinstance(exc, VisionError):  # the source model vanished: fp32 cannot load either
            raise
        raise QuantizationError(f"cannot build the INT8 model in {target}: {exc}") from exc
    _publish(built, cache_dirs[1:])
    return built


def _build(source: Path, calibration: Path, count: int, dst: Path, progress: bool | None) -> Path:
    started = time.monotonic()
    log.info(
        "int8_model_building",
        source=str(source),
        calibration=str(calibration),
        frames=count,
        destination=str(dst),
        note="once per model and footage; 15-30 s on 2 cores",
    )
    # Loading it first turns a broken file into an error naming VIGIL_DETECTOR_MODEL_PATH.
    reference = OnnxYoloDetector(source, DetectorConfig(threads=1))
    frames = read_calibration_frames(calibration, count)
    bar_off = None if progress is None else not progress
    with (
        tempfile.TemporaryDirectory(dir=dst.parent, prefix=f".{dst.name}.build-") as scratch,
        tqdm(total=len(frames) + 2, desc="INT8 detector", unit="step", disable=bar_off) as bar,
    ):
        out = Path(scratch) / "model.onnx"
        try:
            _quantize(reference, frames, out, bar)
        except Exception as exc:  # onnx/onnxruntime raise many untyped errors
            raise QuantizationError(f"quantizing {source} failed: {exc}") from exc
        os.replace(out, dst)  # atomic: readers see no file or the whole file
    log.info(
        "int8_model_ready",
        path=str(dst),
        seconds=round(time.monotonic() - started, 1),
        megabytes=round(dst.stat().st_size / 1e6, 1),
    )
    return dst


def detector_model(
    precision: Precision,
    model_path: Path | None,
    calibration: Path | None,
    cache_dirs: Sequence[Path],
    *,
    size: int | None = None,
    progress: bool | None = None,
) -> Path:
    """The ONNX file the detector should load for `precision` and input `size` (None: the
    export's own). Another size is the export rewritten for it (vigil.vision.resize_model),
    cached beside the INT8 builds. INT8 falls back to the fp32 model, and a size the export
    cannot be rewritten for to the export's own, with a warning: a slower detector beats no
    detector. A missing or broken source model is an error (fp32 would not load either)."""
    from vigil.vision.resize_model import ResizeError, input_size_of, resized_model

    source = resolve_detector_model(model_path)
    if size is not None and cache_dirs:
        try:
            if size != input_size_of(source):
                source = resized_model(source, size, cache_dirs)
        except (ResizeError, OSError) as exc:
            log.warning("detector_resize_unavailable", size=size, error=str(exc))
    if precision == "fp32":
        return source
    try:
        return int8_model(source, calibration, cache_dirs, progress=progress)
    except QuantizationError as exc:
        log.warning(
            "int8_model_unavailable",
            error=str(exc),
            fallback=str(source),
            hint="the detector runs fp32 (about 3x slower); VIGIL_DETECTOR_PRECISION=fp32 "
            "silences this",
        )
        return source
