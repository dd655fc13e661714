"""Smaller-input copies of a static YOLOv8/11 ONNX export, without torch.

A static export bakes its input size into the Detect head: the anchor points (2 x A), the
strides (1 x A) and the anchor count A in the shapes of a few Reshape nodes, where
A = sum((size / stride)^2) over strides 8, 16 and 32 (8400 at 640). The convolutions do not
care about the size, so rewriting those constants for another size gives the model Ultralytics
would export at that size (2100 anchors at 320), at a quarter of the cost.

The copy also takes any batch size: the leading 1 of every Reshape shape becomes 0 ("keep the
input's"), so the regions of a frame (or of several cameras) run in one inference.

Every constant is checked against the anchors the source size implies before it is replaced,
so an export this module does not understand is refused rather than silently broken.
"""

from __future__ import annotations

import ast
import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from vigil.logs import get_logger
from vigil.vision.errors import VisionError
from vigil.vision.quantize import _cached, _locked, _publish, file_sha256

if TYPE_CHECKING:
    import onnx

log = get_logger(__name__)

STRIDES = (8, 16, 32)
# Part of the cached file's name: change it whenever the rewrite changes.
RECIPE = "detect-head-resize-v1"


class ResizeError(VisionError, ValueError):
    """The export's Detect head is not the one this rewrite understands."""


def anchor_count(size: int, strides: Sequence[int] = STRIDES) -> int:
    return sum((size // s) ** 2 for s in strides)


def make_anchors(
    size: int, strides: Sequence[int] = STRIDES
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Ultralytics' `make_anchors` for a square input: points (2, A) and strides (1, A)."""
    points, stride_rows = [], []
    for s in strides:
        n = size // s
        sy, sx = np.meshgrid(np.arange(n) + 0.5, np.arange(n) + 0.5, indexing="ij")
        points.append(np.stack([sx.ravel(), sy.ravel()]))
        stride_rows.append(np.full((1, n * n), float(s)))
    return np.concatenate(points, axis=1), np.concatenate(stride_rows, axis=1)


def _tensors(model: onnx.ModelProto) -> Iterator[tuple[str, onnx.TensorProto]]:
    """Every constant tensor with the name the graph uses for it: initializers, and Constant
    nodes' values (named by their output). Subgraphs hold none in these exports."""
    for tensor in model.graph.initializer:
        yield tensor.name, tensor
    for node in model.graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    yield node.output[0], attr.t


def _reshape_shapes(model: onnx.ModelProto) -> set[str]:
    """Names of the tensors used as a Reshape's target shape."""
    return {node.input[1] for node in model.graph.node if node.op_type == "Reshape"}


def _square_input(model: onnx.ModelProto) -> int:
    dims = model.graph.input[0].type.tensor_type.shape.dim
    if len(dims) != 4 or dims[2].dim_value <= 0 or dims[2].dim_value != dims[3].dim_value:
        raise ResizeError("the export's input is not a static square NCHW image")
    return int(dims[2].dim_value)


def resize_detect_graph(
    model: onnx.ModelProto, size: int, *, dynamic: bool = True
) -> onnx.ModelProto:
    """A copy of `model` for `size` x `size` inputs and any batch size (or batch 1)."""
    import onnx
    from onnx import numpy_helper

    if size % max(STRIDES) or size < max(STRIDES):
        raise ResizeError(f"input size must be a multiple of {max(STRIDES)}, got {size}")
    model = onnx.ModelProto.FromString(model.SerializeToString())  # never touch the caller's
    old_size = _square_input(model)
    old_n, new_n = anchor_count(old_size), anchor_count(size)
    old_points, old_strides = make_anchors(old_size)
    new_points, new_strides = make_anchors(size)
    shapes = _reshape_shapes(model)
    replaced = {"anchor_points": 0, "strides": 0, "reshapes": 0}
    for name, tensor in _tensors(model):
        value = numpy_helper.to_array(tensor)
        new: npt.NDArray[Any] | None = None
        if value.ndim >= 2 and value.shape[-1] == old_n and value.shape[-2] in (1, 2):
            points = value.shape[-2] == 2
            expected = old_points if points else old_strides
            if not np.allclose(value.reshape(expected.shape).astype(np.float64), expected):
                raise ResizeError(f"constant {name} {value.shape} is not the Detect head's")
            fresh = new_points if points else new_strides
            new = fresh.reshape((*value.shape[:-1], new_n)).astype(value.dtype)
            replaced["anchor_points" if points else "strides"] += 1
        elif name in shapes and value.dtype == np.int64 and value.ndim == 1:
            new = value.copy()
            new[new == old_n] = new_n
            replaced["reshapes"] += 1
        elif value.size > 1 and old_n in value.shape:
            raise ResizeError(f"constant {name} {value.shape} depends on the input size")
        if new is not None:
            tensor.CopyFrom(numpy_helper.from_array(new, tensor.name))
    if not replaced["anchor_points"] or not replaced["strides"]:
        raise ResizeError(f"no Detect head anchors for a {old_size} input found ({replaced})")

    graph = model.graph
    inp = graph.input[0].type.tensor_type.shape.dim
    inp[2].dim_value = inp[3].dim_value = size
    for output in graph.output:
        dims = output.type.tensor_type.shape.dim
        if dims[-1].dim_value == old_n:
            dims[-1].dim_value = new_n
    for prop in model.metadata_props:
        if prop.key == "imgsz":
            prop.value = str([size, size])
    log.info("detector_graph_resized", source_size=old_size, size=size, anchors=new_n, **replaced)
    return set_batch(model, dynamic)


def is_dynamic_batch(model: onnx.ModelProto) -> bool:
    return not model.graph.input[0].type.tensor_type.shape.dim[0].dim_value


def set_batch(model: onnx.ModelProto, dynamic: bool) -> onnx.ModelProto:
    """The same graph for any batch (`dynamic`) or for batch 1. Reshape shapes lead with the
    batch: 1 when fixed, 0 ("as in the input") when dynamic. Works on INT8 QDQ graphs too."""
    import onnx
    from onnx import numpy_helper

    model = onnx.ModelProto.FromString(model.SerializeToString())
    shapes = _reshape_shapes(model)
    old, new = (1, 0) if dynamic else (0, 1)
    for name, tensor in _tensors(model):
        if name in shapes:
            value = numpy_helper.to_array(tensor)
            if value.ndim == 1 and len(value) and value[0] == old:
                value = value.copy()
                value[0] = new
                tensor.CopyFrom(numpy_helper.from_array(value, tensor.name))
    for value_info in (*model.graph.input, *model.graph.output):
        dim = value_info.type.tensor_type.shape.dim[0]
        if dynamic:
            dim.dim_param = "batch"
        else:
            dim.dim_value = 1
    for prop in model.metadata_props:
        if prop.key == "batch":
            prop.value = "-1" if dynamic else "1"
    del model.graph.value_info[:]  # stale shapes: inferred again
    model = onnx.shape_inference.infer_shapes(model)
    onnx.checker.check_model(model)
    return model


def input_size_of(path: Path) -> int:
    """The square input size an export was made for (its metadata, else its input shape)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    meta = {p.key: p.value for p in model.metadata_props}
    if "imgsz" in meta:
        return int(ast.literal_eval(meta["imgsz"])[0])
    return _square_input(model)


def resized_model(source: Path, size: int, cache_dirs: Sequence[Path]) -> Path:
    """`source` rewritten for `size` inputs, cached by content as
    `<source sha256[:16]>-<size>-<recipe digest>.onnx`."""
    if not cache_dirs:
        raise ValueError("resized_model needs at least one cache directory")
    recipe = hashlib.sha256(RECIPE.encode()).hexdigest()[:8]
    name = f"{file_sha256(source)[:16]}-{size}-{recipe}.onnx"
    found = _cached(name, cache_dirs)
    if found is not None:
        return found
    target = cache_dirs[0]
    target.mkdir(parents=True, exist_ok=True)
    with _locked(target, name):
        found = _cached(name, cache_dirs)
        if found is not None:
            return found
        import onnx

        resized = resize_detect_graph(onnx.load(str(source)), size)
        fd, tmp = tempfile.mkstemp(suffix=".part", prefix=f".{name}.", dir=target)
        os.close(fd)
        try:
            onnx.save(resized, tmp)
            os.replace(tmp, target / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    built = target / name
    _publish(built, cache_dirs[1:])
    return built
