"""Exports trained folds (or random-init folds, for the runtime benchmark) to ONNX plus a manifest.

  python3 models/training/export.py --weights runs/phantom --out models/knee-tumor-phantom-n320
  python3 models/training/export.py --random-init --size s --img 1280 --folds 5 --out .tmp/random-s1280

Every file is run in onnxruntime-node and compared with PyTorch before the manifest is written.
Each fold also outputs "features", the pooled map of --domain-layer: measure_domain.py turns the
training images' features into the out-of-domain statistics the manifest then names.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import List, Tuple

import torch

from checkpoint import load_checkpoint
from domain import DEFAULT_DOMAIN_LAYER, FEATURE_LAYERS
from manifest import ManifestFields, write_manifest
from model import ModelConfig, YoloDetector
from onnx_export import check_in_onnxruntime_node, export_onnx
from runtime import configure_threads

# Without validation predictions there is no threshold to choose: YOLOv5's detect default.
RANDOM_INIT_OPERATING_THRESHOLD = 0.25


def parse_args(argv: List[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--weights", type=Path, help="train.py output folder (fold*/best.pt, summary.json)")
    source.add_argument("--random-init", action="store_true", help="untrained folds, for benchmarks only")
    p.add_argument("--out", type=Path, required=True, help="folder for the ONNX files")
    p.add_argument("--manifest", type=Path, help="manifest path (default: <out>/manifest.json)")
    p.add_argument("--size", choices=["n", "s", "m"], default="s", help="model size (random-init)")
    p.add_argument("--img", type=int, help="letterbox size (default: the trained size; 1280 for random-init)")
    p.add_argument("--folds", type=int, default=5, help="number of folds (random-init)")
    p.add_argument("--fp16", action="store_true", help="fp16 body with fp32 input, output and decoding")
    p.add_argument("--name", default="knee-tumor-yolov5")
    p.add_argument("--version", default="0.0.0")
    p.add_argument("--model-card", help="model card path relative to the manifest")
    p.add_argument(
        "--training-data",
        choices=["synthetic", "clinical"],
        default="synthetic",
        help="what the folds were trained on (default synthetic: a demonstration model, the safe side)",
    )
    p.add_argument("--score-threshold", type=float, default=0.01)
    p.add_argument(
        "--domain-layer",
        choices=sorted(FEATURE_LAYERS) + ["none"],
        default=DEFAULT_DOMAIN_LAYER,
        help=f"feature map pooled into the 'features' output (default {DEFAULT_DOMAIN_LAYER}; none: no such output)",
    )
    p.add_argument("--operating-threshold", type=float, help="override the threshold chosen in training")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="PyTorch CPU threads (see runtime.py)")
    return p.parse_args(argv)


def trained_models(weights: Path) -> Tuple[List[YoloDetector], int, float, str]:
    """The best checkpoint of every fold, the training input size, the operating threshold chosen
    on the out-of-fold predictions, and a description of the training run."""
    checkpoints = sorted(weights.glob("fold*/best.pt"))
    if not checkpoints:
        raise SystemExit(f"no fold*/best.pt under {weights}")
    loaded = [load_checkpoint(c) for c in checkpoints]
    summary = json.loads((weights / "summary.json").read_text())
    img = loaded[0].img
    description = (
        f"YOLOv5{loaded[0].config.size}-layout detector, {len(loaded)} folds trained from scratch at {img} px; "
        f"operating threshold {summary['operatingThreshold']['rule']} on out-of-fold patient scores"
    )
    return [c.model for c in loaded], img, float(summary["operatingThreshold"]["value"]), description


def random_models(size: str, folds: int, seed: int) -> List[YoloDetector]:
    models = []
    for fold in range(folds):
        torch.manual_seed(seed + fold)
        models.append(YoloDetector(ModelConfig(size=size)))
    return models


def main(argv: List[str]) -> int:
    args = parse_args(argv)
    configure_threads(args.threads)
    if args.random_init:
        models = random_models(args.size, args.folds, args.seed)
        img = args.img or 1280
        threshold = RANDOM_INIT_OPERATING_THRESHOLD
        description = f"RANDOM WEIGHTS (runtime benchmark only): YOLOv5{args.size} layout, {args.folds} folds at {img} px"
    else:
        models, trained_img, threshold, description = trained_models(args.weights)
        img = args.img or trained_img
    if args.operating_threshold is not None:
        threshold = args.operating_threshold
    precision = "fp16" if args.fp16 else "fp32"
    suffix = ".fp16.onnx" if args.fp16 else ".onnx"

    files = []
    for fold, model in enumerate(models):
        path = args.out / f"fold{fold}{suffix}"
        export_onnx(model, path, img, args.fp16, None if args.domain_layer == "none" else args.domain_layer)
        check = check_in_onnxruntime_node(model, path, img, precision, seed=args.seed)
        print(
            f"fold {fold}: {path} ({path.stat().st_size / 1e6:.1f} MB); onnxruntime-node on {list(check.shape)} -> "
            f"{check.rows} rows, max diff {check.max_box_diff:.2e} px, {check.max_score_diff:.2e} score",
            flush=True,
        )
        files.append(path)

    manifest_path = args.manifest or args.out / "manifest.json"
    fields = ManifestFields(
        name=args.name,
        version=args.version,
        description=description,
        img=img,
        precision=precision,
        score_threshold=args.score_threshold,
        operating_threshold=threshold,
        model_card=args.model_card,
        training_data=args.training_data,
    )
    write_manifest(fields, files, manifest_path)
    print(f"manifest: {manifest_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
