"""The GPU benchmark's model variants, made from a shipped fp32 ensemble with the recipe's own code.

  python3 scripts/gpu/fp16_folds.py --manifest models/knee-tumor-v2/manifest.json --out <dir>

Writes <dir>/fp16/ (every fold through onnx_export.to_fp16, as `export.py --fp16` does, and a
manifest that differs from the shipped one only in precision, files and hashes) and
<dir>/merged.onnx, <dir>/merged.fp16.onnx: all folds in one graph on one shared input, their
outputs concatenated on the batch axis (fold-major), so that one run covers the whole ensemble.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import List

import onnx
from onnx import compose, helper

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models" / "training"))
from manifest import sha256_file  # noqa: E402
from onnx_export import INPUT_NAME, OUTPUT_NAME, to_fp16  # noqa: E402


def merge_folds(folds: List[onnx.ModelProto]) -> onnx.ModelProto:
    """One graph: input [B, 3, H, W] -> output [folds * B, rows, 6], fold k at rows k*B..(k+1)*B."""
    nodes, initializers, outputs = [], [], []
    for k, fold in enumerate(folds):
        # Every name but the shared input gets the fold's prefix, so the folds cannot collide.
        prefixed = compose.add_prefix(fold, f"fold{k}_")
        for node in prefixed.graph.node:
            node.input[:] = [INPUT_NAME if name == f"fold{k}_{INPUT_NAME}" else name for name in node.input]
        nodes.extend(prefixed.graph.node)
        initializers.extend(prefixed.graph.initializer)
        outputs.append(prefixed.graph.output[0].name)
    nodes.append(helper.make_node("Concat", outputs, [OUTPUT_NAME], axis=0))
    first = folds[0].graph
    output_type = first.output[0].type.tensor_type.elem_type
    graph = helper.make_graph(
        nodes,
        "merged_folds",
        [first.input[0]],
        [helper.make_tensor_value_info(OUTPUT_NAME, output_type, ["folds_x_batch", "rows", "columns"])],
        initializers,
    )
    merged = helper.make_model(graph, opset_imports=folds[0].opset_import)
    merged.ir_version = folds[0].ir_version
    onnx.checker.check_model(merged)
    return merged


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", type=Path, required=True, help="the fp32 ensemble's manifest")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)

    manifest = json.loads(args.manifest.read_text())
    if manifest["precision"] != "fp32" or manifest["input"]["name"] != INPUT_NAME or manifest["output"]["name"] != OUTPUT_NAME:
        raise SystemExit(f"{args.manifest}: expected an fp32 ensemble with {INPUT_NAME} -> {OUTPUT_NAME}")
    fp16_dir = args.out / "fp16"
    fp16_dir.mkdir(parents=True, exist_ok=True)
    fp32_folds, fp16_folds = [], []
    for entry in manifest["folds"]:
        source = args.manifest.parent / entry["file"]
        if sha256_file(source) != entry["sha256"]:
            raise SystemExit(f"{source}: sha256 differs from the manifest")
        fp32 = onnx.load(str(source))
        fp16 = to_fp16(onnx.load(str(source)))
        target = fp16_dir / f"fold{entry['fold']}.fp16.onnx"
        onnx.save(fp16, str(target))
        fp32_folds.append(fp32)
        fp16_folds.append(fp16)
        entry["file"] = target.name
        entry["sha256"] = sha256_file(target)
        print(f"fold {entry['fold']}: {target} ({target.stat().st_size / 1e6:.1f} MB)", flush=True)
    manifest["precision"] = "fp16"
    manifest.pop("modelCard", None)
    if "domain" in manifest:
        # The out-of-domain statistics travel with the folds: the manifest names them relative to itself.
        statistics = manifest["domain"]["statistics"]
        shutil.copyfile(args.manifest.parent / statistics, fp16_dir / statistics)
    (fp16_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for name, folds in (("merged.onnx", fp32_folds), ("merged.fp16.onnx", fp16_folds)):
        onnx.save(merge_folds(folds), str(args.out / name))
        print(f"merged folds: {args.out / name}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
