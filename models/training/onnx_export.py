"""ONNX export of one fold in the runtime's layout, and its check in onnxruntime-node."""
from __future__ import annotations

import io
import json
import math
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import List, Tuple

import numpy as np
import onnx
import torch

from model import STRIDES, ExportWrapper, YoloDetector
from onnx_fp16 import ancestors, convert_body_to_fp16

OPSET = 17
INPUT_NAME = "images"
OUTPUT_NAME = "output0"
# The pooled features out-of-domain detection reads (export with a domain layer).
FEATURES_NAME = "features"
CHECK_SCRIPT = Path(__file__).with_name("onnx_check.js")
# Largest differences accepted between PyTorch and onnxruntime-node, per precision: box terms in
# input pixels, scores on 0..1. fp32 differs only by conv+BN folding and kernel order.
TOLERANCE = {"fp32": (0.05, 1e-3), "fp16": (2.0, 2e-2)}


def export_onnx(model: YoloDetector, path: Path, img: int, fp16: bool, domain_layer: str | None = None) -> None:
    """Traces the decoded model with dynamic batch, height and width and writes opset 17; with a
    domain layer, its pooled features are a second output (see ExportWrapper)."""
    model.eval()
    outputs = [OUTPUT_NAME] + ([FEATURES_NAME] if domain_layer else [])
    axes = {INPUT_NAME: {0: "batch", 2: "height", 3: "width"}, OUTPUT_NAME: {0: "batch", 1: "rows"}}
    if domain_layer:
        axes[FEATURES_NAME] = {0: "batch"}
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # torch 1.13 warns that prim::Constant has no shape inference; the graph is still exact.
        warnings.simplefilter("ignore", UserWarning)
        torch.onnx.export(
            ExportWrapper(model, domain_layer),
            torch.zeros(1, 3, img, img),
            buffer,
            opset_version=OPSET,
            input_names=[INPUT_NAME],
            output_names=outputs,
            dynamic_axes=axes,
            do_constant_folding=True,
        )
    graph = onnx.load_from_string(buffer.getvalue())
    if fp16:
        graph = to_fp16(graph)
    onnx.checker.check_model(graph)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(graph, str(path))


def to_fp16(graph: onnx.ModelProto) -> onnx.ModelProto:
    """The fp16 variant of an fp32 export (at export time, or later from the shipped file)."""
    # Node names vary between torch versions; the head's weights keep their parameter names.
    head_weights = {f"model.detect.m.{i}.weight" for i in range(len(STRIDES))}
    detect_convs = [n.output[0] for n in graph.graph.node if n.op_type == "Conv" and n.input[1] in head_weights]
    if len(detect_convs) != len(STRIDES):
        raise RuntimeError(f"expected {len(STRIDES)} Detect convolutions in the graph, found {len(detect_convs)}")
    return convert_body_to_fp16(graph, detect_convs + feature_sources(graph, detect_convs))


def feature_sources(graph: onnx.ModelProto, detect_convs: List[str]) -> List[str]:
    """The body tensors the features output is pooled from: cast back to fp32 like the Detect
    convolutions' outputs, so that the pooling and the features output stay fp32."""
    if not any(o.name == FEATURES_NAME for o in graph.graph.output):
        return []
    nodes = list(graph.graph.node)
    body = ancestors(nodes, detect_convs)
    made_in_body = {name for i in body for name in nodes[i].output}
    return sorted({name for i in ancestors(nodes, [FEATURES_NAME]) - body for name in nodes[i].input if name in made_in_body})


@dataclass(frozen=True)
class CheckResult:
    shape: Tuple[int, int, int, int]
    rows: int
    max_box_diff: float
    max_score_diff: float


def expected_rows(height: int, width: int, anchors_per_cell: int = 3) -> int:
    return anchors_per_cell * sum((height // s) * (width // s) for s in STRIDES)


def check_in_onnxruntime_node(model: YoloDetector, path: Path, img: int, precision: str, seed: int = 0) -> CheckResult:
    """Runs the file in onnxruntime-node on a batch of 2 at a non-square size (so the dynamic axes
    are exercised) and compares with PyTorch; raises when the layout or the values differ."""
    height = int(math.ceil(img * 0.67 / 32) * 32)
    shape = (2, 3, height, img)
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(shape, generator=generator)
    model.eval()
    with torch.no_grad():
        expected = model.predict(x).numpy()
    with tempfile.TemporaryDirectory() as tmp:
        input_path, output_path = Path(tmp, "input.raw"), Path(tmp, "output.raw")
        input_type = "float16" if precision == "fp16" else "float32"
        x.numpy().astype(input_type).tofile(input_path)
        run = subprocess.run(
            ["node", str(CHECK_SCRIPT), str(path), str(input_path), input_type, ",".join(map(str, shape)), str(output_path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if run.returncode != 0:
            raise RuntimeError(f"onnxruntime-node could not run {path}: {run.stderr.strip()}")
        info = json.loads(run.stdout)
        actual = np.fromfile(output_path, dtype=info["type"]).reshape(info["dims"]).astype(np.float32)
    if info["inputs"] != [INPUT_NAME] or info["outputs"][0] != OUTPUT_NAME or info["outputs"][1:] not in ([], [FEATURES_NAME]):
        raise RuntimeError(f"{path}: tensors are named {info['inputs']} -> {info['outputs']}")
    rows = expected_rows(height, img)
    if list(actual.shape) != [shape[0], rows, expected.shape[2]]:
        raise RuntimeError(f"{path}: output shape {list(actual.shape)}, expected {[shape[0], rows, expected.shape[2]]}")
    box_diff = float(np.abs(actual[..., :4] - expected[..., :4]).max())
    score_diff = float(np.abs(actual[..., 4:] - expected[..., 4:]).max())
    box_tolerance, score_tolerance = TOLERANCE[precision]
    if box_diff > box_tolerance or score_diff > score_tolerance:
        raise RuntimeError(f"{path}: onnxruntime-node differs from PyTorch by {box_diff:.4g} px / {score_diff:.4g} in scores")
    return CheckResult(shape, rows, box_diff, score_diff)
