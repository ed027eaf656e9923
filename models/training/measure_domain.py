"""Out-of-domain statistics and the operating point of an ensemble, from measured features and scores.

Reads the JSON lines of domain-features.js for four sets: the training images (statistics), a
fresh calibration set no fold trained on (the out-of-domain threshold and the operating point), a
held-out set (reported, not tuned to) and real radiographs that are not knees (must be flagged).

  # compare every candidate layer (features.<layer> outputs), print and write the numbers:
  python3 models/training/measure_domain.py --train T.jsonl --calibration C.jsonl --heldout H.jsonl --real R.jsonl --report out.json
  # the chosen layer: write its statistics beside a manifest and set the manifest's domain block
  # and calibrated operating threshold (fold sha256s are refreshed from the files):
  python3 models/training/measure_domain.py ... --layer backbone-p4 --manifest models/knee-tumor-v2/manifest.json

Statistic: per fold, the Mahalanobis distance of a view's pooled features to that fold's training
features (mean, Ledoit-Wolf covariance); folds combined by their mean. The threshold is the given
percentile (default 99) of the calibration views' distances. The operating threshold is Youden's
J on the calibration patients' ensemble (TTA) scores; sensitivity and specificity at it are
reported on the held-out patients, with and without the domain check.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List

import numpy as np

from domain import distances, fold_statistics, packed_lower
from manifest import sha256_file
from metrics import roc_auc, youden_threshold
from onnx_export import FEATURES_NAME

STATISTICS_FILE = "domain-statistics.json"

SCORE_FLOOR = 0.01  # the manifest's postprocess.scoreThreshold: no threshold below it


def read(path: Path) -> List[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def layer_features(rows: List[dict], layer: str) -> np.ndarray:
    """[folds, views, channels]"""
    return np.array([row["features"][layer] for row in rows], dtype=np.float64).transpose(1, 0, 2)


def combined(rows: List[dict], layer: str, stats: List[dict], how: str) -> np.ndarray:
    per_fold = np.stack([distances(f, s) for f, s in zip(layer_features(rows, layer), stats)])
    return per_fold.mean(axis=0) if how == "mean" else per_fold.max(axis=0)


def patients(rows: List[dict], outside: np.ndarray | None = None) -> Dict[str, dict]:
    """Patient score (highest view score), tumor flag, and its views as (score, outside of the domain)."""
    out: Dict[str, dict] = {}
    for i, row in enumerate(rows):
        p = out.setdefault(row["patientId"], {"score": 0.0, "tumor": bool(row["tumor"]), "views": []})
        p["views"].append((row["score"], bool(outside[i]) if outside is not None else False))
        p["score"] = max(p["score"], row["score"])
    return out


def centred_youden(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float, float]:
    """Youden's J, placed mid-way in the interval of thresholds that all give the best J (between
    the highest such threshold and the next score below the interval), not on a patient's score:
    a new patient scoring a hair under a calibration tumor is then still called positive."""
    highest, sensitivity, specificity = youden_threshold(scores, labels, SCORE_FLOOR)
    j = sensitivity + specificity - 1
    positives, negatives = max(int(labels.sum()), 1), max(int((~labels).sum()), 1)
    lowest = highest
    for t in sorted({float(x) for x in scores if SCORE_FLOOR <= x < highest}, reverse=True):
        if float((scores[labels] >= t).sum()) / positives + float((scores[~labels] < t).sum()) / negatives - 1 < j:
            return (t + lowest) / 2, sensitivity, specificity
        lowest = t
    return (SCORE_FLOOR + lowest) / 2, sensitivity, specificity


def operating_point(calibration: List[dict], heldout: List[dict], heldout_outside: np.ndarray) -> dict:
    cal = list(patients(calibration).values())
    scores = np.array([p["score"] for p in cal])
    labels = np.array([p["tumor"] for p in cal])
    threshold, cal_sens, cal_spec = centred_youden(scores, labels)
    held = list(patients(heldout, heldout_outside).values())
    h_scores = np.array([p["score"] for p in held])
    h_labels = np.array([p["tumor"] for p in held])
    # With the domain check a patient is positive only from an in-domain view at or above the threshold.
    h_positive = np.array([any(score >= threshold and not outside for score, outside in p["views"]) for p in held])
    abstained = np.array([(not pos) and any(outside for _, outside in p["views"]) for p, pos in zip(held, h_positive)])
    return {
        "rule": "Youden's J on calibration patients' ensemble scores with TTA (no fold trained on them), mid-way in the interval of best J",
        "threshold": threshold,
        "calibration": {"patients": len(cal), "tumors": int(labels.sum()), "auc": roc_auc(scores, labels), "sensitivity": cal_sens, "specificity": cal_spec},
        "heldout": {
            "patients": len(held),
            "tumors": int(h_labels.sum()),
            "auc": roc_auc(h_scores, h_labels),
            "sensitivity": float((h_scores[h_labels] >= threshold).mean()),
            "specificity": float((h_scores[~h_labels] < threshold).mean()),
            "withDomainCheck": {
                "sensitivity": float(h_positive[h_labels].mean()),
                "specificity": float((~h_positive[~h_labels] & ~abstained[~h_labels]).mean()),
                "abstainedPatients": int(abstained.sum()),
            },
        },
    }


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("train", "calibration", "heldout", "real"):
        p.add_argument(f"--{name}", type=Path, required=True)
    p.add_argument("--percentile", type=float, default=99.0)
    p.add_argument("--report", type=Path, help="write every number as JSON")
    p.add_argument("--layer", help="the chosen layer (default: every one measured)")
    p.add_argument("--features-key", help="with --layer: read these features (e.g. the folds' own 'features' output) under the layer's name")
    p.add_argument("--combine", choices=["mean", "max"], default="mean")
    p.add_argument("--manifest", type=Path, help="with --layer: write domain-statistics.json beside it and update it")
    args = p.parse_args(argv)
    sets = {name: read(getattr(args, name)) for name in ("train", "calibration", "heldout", "real")}
    if args.layer and args.features_key:
        for rows in sets.values():
            for row in rows:
                row["features"][args.layer] = row["features"][args.features_key]
    layers = [args.layer] if args.layer else sorted(sets["train"][0]["features"])
    report: Dict[str, object] = {"percentile": args.percentile, "views": {k: len(v) for k, v in sets.items()}, "layers": {}}
    for layer in layers:
        stats = [fold_statistics(f) for f in layer_features(sets["train"], layer)]
        for how in (["mean", "max"] if not args.layer else [args.combine]):
            d = {name: combined(rows, layer, stats, how) for name, rows in sets.items()}
            threshold = float(np.percentile(d["calibration"], args.percentile))
            entry = {
                "channels": int(stats[0]["mean"].shape[0]),
                "shrinkage": [round(s["shrinkage"], 4) for s in stats],
                "threshold": threshold,
                "trainMedian": float(np.median(d["train"])),
                "calibrationMedian": float(np.median(d["calibration"])),
                "heldoutFlagged": int((d["heldout"] > threshold).sum()),
                "heldoutFlaggedFraction": float((d["heldout"] > threshold).mean()),
                "heldoutMax": float(d["heldout"].max()),
                "real": {row["file"]: round(float(x), 2) for row, x in zip(sets["real"], d["real"])},
                "realFlagged": int((d["real"] > threshold).sum()),
                # How far the nearest real radiograph lies beyond the threshold (1 = on it).
                "margin": float(d["real"].min() / threshold),
            }
            report["layers"][f"{layer}/{how}"] = entry  # type: ignore[index]
            print(
                f"{layer:12s} {how:4s} C={entry['channels']:3d} threshold {threshold:8.2f}  held-out flagged {entry['heldoutFlagged']}/{len(d['heldout'])} "
                f"({100 * entry['heldoutFlaggedFraction']:.1f}%)  real flagged {entry['realFlagged']}/{len(d['real'])}  margin {entry['margin']:.2f}  real {entry['real']}",
                flush=True,
            )
            if args.layer:
                report["operatingPoint"] = operating_point(sets["calibration"], sets["heldout"], d["heldout"] > threshold)
                print(json.dumps(report["operatingPoint"], indent=2))
                if args.manifest:
                    statistics = args.manifest.parent / STATISTICS_FILE
                    real = {row["file"]: float(x) for row, x in zip(sets["real"], d["real"])}
                    write_statistics(statistics, layer, stats, d, threshold, args.percentile, len(sets["train"]), real)
                    update_manifest(args.manifest, layer, statistics, threshold, report["operatingPoint"]["threshold"])  # type: ignore[index]
    if args.report:
        args.report.write_text(json.dumps(report, indent=2) + "\n")
    return 0


def update_manifest(manifest_path: Path, layer: str, statistics: Path, threshold: float, operating_threshold: float) -> None:
    manifest = json.loads(manifest_path.read_text())
    for fold in manifest["folds"]:
        fold["sha256"] = sha256_file(manifest_path.parent / fold["file"])
    manifest["operatingThreshold"] = operating_threshold
    manifest["domain"] = {
        "featuresOutput": FEATURES_NAME,
        "layer": layer,
        "statistics": statistics.name,
        "statisticsSha256": sha256_file(statistics),
        "threshold": threshold,
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"manifest: {manifest_path} (operating threshold {operating_threshold:.4f}, domain threshold {threshold:.2f})")


def write_statistics(
    path: Path, layer: str, stats: List[dict], d: Dict[str, np.ndarray], threshold: float, percentile: float, train_views: int, real: Dict[str, float]
) -> None:
    document = {
        "kind": "knee-tumor-domain-statistics",
        "schemaVersion": 1,
        "layer": layer,
        "pooling": "global average of the identity TTA pass",
        "combine": "mean of the folds' Mahalanobis distances",
        "covariance": "Ledoit-Wolf shrinkage",
        "featureCount": int(stats[0]["mean"].shape[0]),
        "trainingViews": train_views,
        "threshold": {"value": threshold, "rule": f"{percentile:g}th percentile of calibration views' distances"},
        "trainingDistances": {q: float(np.percentile(d["train"], int(q[1:]))) for q in ("p50", "p90", "p99")},
        # The real radiographs' distances as computed here: the runtime's own must agree (a test checks).
        "realRadiographDistances": real,
        "folds": [
            {
                "fold": i,
                "mean": [float(f"{v:.7g}") for v in s["mean"]],
                "precisionCholesky": [float(f"{v:.7g}") for v in packed_lower(s["factor"])],
            }
            for i, s in enumerate(stats)
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document) + "\n")
    print(f"statistics: {path}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
