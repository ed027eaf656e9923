"""Adds the pooled feature output that out-of-domain detection reads to exported ONNX folds.

The v1 folds were exported with one output (output0) and their PyTorch checkpoints were not kept,
so this graph surgery gives them what export.py now writes natively: a GlobalAveragePool of one
feature map, flattened to [batch, channels], as a second output. The detection output is left
untouched (same nodes, same weights), so boxes do not change.

  # one layer, the shipped choice, as output "features":
  python3 models/training/add_domain_output.py --folds models/knee-tumor-v2 --out .tmp/v2 --layer backbone-p4
  # every candidate layer as "features.<layer>", to measure which separates the domains:
  python3 models/training/add_domain_output.py --folds models/knee-tumor-v2 --out .tmp/candidates --all-candidates
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Dict, List

import onnx
from onnx import TensorProto, helper

from domain import FEATURE_LAYERS

FEATURES_OUTPUT = "features"


def producing_tensor(graph: onnx.GraphProto, module: str) -> str:
    """The output tensor of a module's last activation (every Conv block ends in SiLU = x * sigmoid(x))."""
    name = f"/{module}/act/Mul"
    for node in graph.node:
        if node.name == name:
            return node.output[0]
    raise SystemExit(f"no node {name} in the graph: is this a YOLOv5-layout export of models/training/model.py?")


def add_pooled_output(model: onnx.ModelProto, layer: str, output_name: str) -> None:
    graph = model.graph
    source = producing_tensor(graph, FEATURE_LAYERS[layer])
    pooled = f"{output_name}/pooled"
    graph.node.append(helper.make_node("GlobalAveragePool", [source], [pooled], name=f"/{output_name}/GlobalAveragePool"))
    graph.node.append(helper.make_node("Flatten", [pooled], [output_name], name=f"/{output_name}/Flatten", axis=1))
    graph.output.append(helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["batch", "channels"]))


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--folds", type=Path, required=True, help="folder with fold*.onnx")
    p.add_argument("--out", type=Path, required=True)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--layer", choices=sorted(FEATURE_LAYERS), help="the layer exposed as output 'features'")
    which.add_argument("--all-candidates", action="store_true", help="every candidate layer as 'features.<layer>'")
    args = p.parse_args(argv)
    files = sorted(args.folds.glob("fold*.onnx"))
    if not files:
        raise SystemExit(f"no fold*.onnx in {args.folds}")
    outputs: Dict[str, str] = (
        {layer: f"{FEATURES_OUTPUT}.{layer}" for layer in sorted(FEATURE_LAYERS)} if args.all_candidates else {args.layer: FEATURES_OUTPUT}
    )
    args.out.mkdir(parents=True, exist_ok=True)
    for file in files:
        model = onnx.load(str(file))
        if any(o.name in outputs.values() for o in model.graph.output):
            raise SystemExit(f"{file} already has a features output")
        for layer, name in outputs.items():
            add_pooled_output(model, layer, name)
        onnx.checker.check_model(model)
        onnx.save(model, str(args.out / file.name))
        print(f"{file.name}: outputs {[o.name for o in model.graph.output]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
