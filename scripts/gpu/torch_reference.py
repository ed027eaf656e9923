"""PyTorch reference timing for the same fold weights the runtime runs.

  python3 scripts/gpu/torch_reference.py --manifest models/knee-tumor-v2/manifest.json --out torch.json

The shipped ensemble is ONNX only, with each convolution's batch norm folded into it at export. The
recipe's network (model.py) is rebuilt from those files: each ONNX Conv, in graph order, fills the
network's convolutions in the order they run, its batch norm set to pass the folded bias through.
Each rebuilt fold is then compared with onnxruntime-node by the recipe's own export check, so the
timings are of the same function. Times on CUDA in fp16 when there is a GPU (as YOLOv5 --half),
else on the CPU in fp32 (PyTorch 1.13 has no fp16 convolutions on the CPU).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import onnx
import torch
from onnx import numpy_helper
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models" / "training"))
from model import STRIDES, Conv, ModelConfig, YoloDetector  # noqa: E402
from onnx_export import check_in_onnxruntime_node  # noqa: E402
from runtime import configure_threads  # noqa: E402

# YOLOv5n/s/m first convolution widths (model.py SIZES: 64 x width multiple).
SIZE_BY_STEM_WIDTH = {16: "n", 32: "s", 48: "m"}


def conv_call_order(model: YoloDetector, img: int) -> List[nn.Conv2d]:
    order: List[nn.Conv2d] = []
    hooks = [m.register_forward_hook(lambda module, _i, _o: order.append(module)) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model.predict(torch.zeros(1, 3, img, img))
    for hook in hooks:
        hook.remove()
    return order


def from_onnx(path: Path, img: int) -> YoloDetector:
    graph = onnx.load(str(path)).graph
    weights: Dict[str, torch.Tensor] = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in graph.initializer}
    # The exporter stores equal constants once and names the copies through Identity nodes.
    for node in graph.node:
        if node.op_type == "Identity" and node.input[0] in weights:
            weights[node.output[0]] = weights[node.input[0]]
    onnx_convs = [n for n in graph.node if n.op_type == "Conv"]
    stem_width = weights[onnx_convs[0].input[1]].shape[0]
    model = YoloDetector(ModelConfig(size=SIZE_BY_STEM_WIDTH[stem_width])).eval()
    parents = {m.conv: m for m in model.modules() if isinstance(m, Conv)}
    torch_convs = conv_call_order(model, img)
    if len(torch_convs) != len(onnx_convs):
        raise SystemExit(f"{path}: {len(onnx_convs)} convolutions in the graph, {len(torch_convs)} in the network")
    with torch.no_grad():
        for conv, node in zip(torch_convs, onnx_convs):
            weight, bias = weights[node.input[1]], weights[node.input[2]]
            if conv.weight.shape != weight.shape:
                raise SystemExit(f"{path}: {node.name} has weights {list(weight.shape)}, the network {list(conv.weight.shape)}")
            conv.weight.copy_(weight)
            parent = parents.get(conv)
            if parent is None:
                conv.bias.copy_(bias)
                continue
            # Identity batch norm plus the folded bias: (x - 0) / sqrt((1 - eps) + eps) * 1 + bias.
            parent.bn.weight.fill_(1)
            parent.bn.bias.copy_(bias)
            parent.bn.running_mean.zero_()
            parent.bn.running_var.fill_(1 - parent.bn.eps)
    return model


def pass_shapes(manifest: dict) -> List[Tuple[int, int]]:
    """(height, width) of each TTA pass of a square letterbox, padded to the grid stride, as the
    runtime's passShape (server/src/pipeline/letterbox.ts) makes them: floor, then pad up."""
    size, stride = manifest["input"]["size"], manifest["tta"]["gridStride"]
    sides = [-(-int(size * p["scale"]) // stride) * stride for p in manifest["tta"]["passes"]]
    return [(side, side) for side in sides]


def median_ms(runs: int, task: Callable[[], object], sync: Callable[[], None]) -> float:
    task()
    sync()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        task()
        sync()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", type=Path, required=True, help="the fp32 ensemble's manifest")
    p.add_argument("--out", type=Path, required=True, help="JSON with the timings")
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--views", type=int, default=2)
    p.add_argument("--threads", type=int, default=1, help="PyTorch CPU threads when there is no GPU")
    args = p.parse_args(argv)
    configure_threads(args.threads)
    manifest = json.loads(args.manifest.read_text())
    img = manifest["input"]["size"]
    models = []
    for entry in manifest["folds"]:
        path = args.manifest.parent / entry["file"]
        model = from_onnx(path, img)
        check = check_in_onnxruntime_node(model, path, img, "fp32")
        print(f"fold {entry['fold']}: rebuilt from {path.name}; onnxruntime-node differs by {check.max_box_diff:.2e} px, {check.max_score_diff:.2e} score", flush=True)
        models.append(model)

    cuda = torch.cuda.is_available()
    device, dtype = (torch.device("cuda"), torch.float16) if cuda else (torch.device("cpu"), torch.float32)
    models = [m.to(device=device, dtype=dtype) for m in models]
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    shapes = pass_shapes(manifest)
    passes = len(models) * len(shapes) * args.views
    # As ../shared/STACK.md measured it: one fold's weights on all of a patient's passes at once,
    # every pass at the full input size (more work than the TTA's smaller passes).
    whole = torch.rand(passes, 3, img, img, device=device, dtype=dtype)
    per_shape = [torch.rand(args.views, 3, h, w, device=device, dtype=dtype) for h, w in shapes]

    def one_batch() -> None:
        with torch.no_grad():
            models[0].predict(whole)

    def per_fold_and_shape() -> None:
        with torch.no_grad():
            for model in models:
                for x in per_shape:
                    model.predict(x)

    rows = [
        {"label": f"batch {passes} at {img} (one fold's weights)", "runs": 1, "batch": passes, "patientMs": median_ms(args.runs, one_batch, sync)},
        {
            "label": f"{len(models)} folds x {len(shapes)} pass shapes, batch {args.views}",
            "runs": len(models) * len(shapes),
            "batch": args.views,
            "patientMs": median_ms(args.runs, per_fold_and_shape, sync),
        },
    ]
    name = torch.cuda.get_device_name(0) if cuda else "CPU"
    result = {"device": name, "torch": torch.__version__, "dtype": str(dtype).replace("torch.", ""), "passes": passes, "views": args.views, "rows": rows}
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for row in rows:
        print(f"PyTorch {result['dtype']} on {name}, {row['label']}: {row['patientMs']:.1f} ms a patient", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
