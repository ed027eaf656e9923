"""The model manifest the runtime loads (schema: server/src/model/manifest.ts, validated there)."""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from model import ANCHORS, STRIDES
from onnx_export import INPUT_NAME, OUTPUT_NAME

# YOLOv5's test-time augmentation: full scale, 0.83 flipped left-right, 0.67.
TTA_PASSES = [
    {"scale": 1, "flipLeftRight": False},
    {"scale": 0.83, "flipLeftRight": True},
    {"scale": 0.67, "flipLeftRight": False},
]
GRID_STRIDE = max(STRIDES)
TTA_PAD_VALUE = 0.447
NMS_IOU = 0.45
MAX_DETECTIONS = 300


@dataclass(frozen=True)
class ManifestFields:
    name: str
    version: str
    description: str
    img: int
    precision: str
    score_threshold: float
    operating_threshold: float
    training_data: str = "synthetic"
    model_card: Optional[str] = None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def build_manifest(fields: ManifestFields, fold_files: List[Path], manifest_path: Path) -> Dict[str, Any]:
    directory = manifest_path.parent.resolve()
    manifest: Dict[str, Any] = {
        "kind": "knee-tumor-model-manifest",
        "schemaVersion": 1,
        "name": fields.name,
        "version": fields.version,
        "description": fields.description,
        "notForClinicalUse": True,
        "trainingData": fields.training_data,
        # Phantom-trained folds only show how the product works; real-data folds await a site's validation.
        "intendedUse": "demonstration" if fields.training_data == "synthetic" else "clinical-evaluation",
        "input": {"size": fields.img, "name": INPUT_NAME, "letterboxPadValue": 0},
        "output": {"name": OUTPUT_NAME, "layout": "yolov5"},
        "classNames": ["tumor"],
        "folds": [
            {"fold": i, "file": Path(os.path.relpath(f.resolve(), directory)).as_posix(), "sha256": sha256_file(f)}
            for i, f in enumerate(fold_files)
        ],
        "precision": fields.precision,
        "tta": {
            "passes": TTA_PASSES,
            "gridStride": GRID_STRIDE,
            "padValue": TTA_PAD_VALUE,
            "clipLayers": {"strides": list(STRIDES), "anchorsPerCell": len(ANCHORS[0])},
        },
        "postprocess": {
            "scoreThreshold": fields.score_threshold,
            "nmsIouThreshold": NMS_IOU,
            "maxDetections": MAX_DETECTIONS,
            "merge": "nms",
        },
        "operatingThreshold": fields.operating_threshold,
    }
    if fields.model_card:
        manifest["modelCard"] = fields.model_card
    return manifest


def write_manifest(fields: ManifestFields, fold_files: List[Path], manifest_path: Path) -> Dict[str, Any]:
    if fields.img % GRID_STRIDE:
        raise ValueError(f"input size {fields.img} is not a multiple of {GRID_STRIDE}")
    if not fields.score_threshold <= fields.operating_threshold <= 1:
        raise ValueError("the operating threshold must lie between the score threshold and 1")
    manifest = build_manifest(fields, fold_files, manifest_path)
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
