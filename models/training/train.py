"""Trains the method's five-fold YOLOv5 ensemble from scratch on a training set written by
`knee-tumor training-set` (images/*.png + labels.json).

  python3 models/training/train.py --data .tmp/train-set --img 320 --size n --epochs 30 \\
      --patience 8 --folds 5 --batch 16 --workers 1 --out .tmp/runs/phantom

Writes <out>/fold<k>/best.pt (EMA weights of the best epoch) and history.json, then
<out>/oof.json (each validation image's boxes from its own fold's model) and <out>/summary.json
(per-fold and out-of-fold metrics, and the operating threshold export.py puts in the manifest).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Dict, List


from augment import AugmentConfig
from dataset import cache_images, load_labels, split_by_patient
from fold import FoldResult, TrainSettings, summarise, train_fold
from metrics import ImagePrediction, patient_scores, youden_threshold
from optim import OptimConfig
from runtime import configure_threads, select_device

# Boxes under this confidence never reach the runtime's merge (the manifest's scoreThreshold), so
# the operating threshold is not chosen below it.
MIN_OPERATING_THRESHOLD = 0.01


def parse_args(argv: List[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="training set folder (labels.json, images/)")
    p.add_argument("--out", type=Path, required=True, help="run folder")
    p.add_argument("--img", type=int, default=640, help="letterbox size, a multiple of 32 (the method: 1280)")
    p.add_argument("--size", choices=["n", "s", "m"], default="n")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--patience", type=int, default=10, help="epochs without a better validation AP20 before stopping")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--fold", type=int, action="append", help="train only this fold (repeatable); default all")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--workers", type=int, default=1, help="augmentation processes")
    # AdamW by default: with YOLOv5's SGD the objectness of a from-scratch model stays near its
    # prior for hundreds of steps (its per-cell gradients are tiny), too long for a CPU budget.
    p.add_argument("--optimizer", choices=["sgd", "adamw"], default="adamw")
    p.add_argument("--lr", type=float, help="initial learning rate (default 0.01 for SGD, 0.002 for AdamW)")
    p.add_argument("--warmup-epochs", type=float, default=OptimConfig.warmup_epochs)
    p.add_argument("--init", type=Path, help="checkpoint every fold starts from (default: random init)")
    p.add_argument("--mosaic", type=float, default=AugmentConfig.mosaic, help="probability of a mosaic sample")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="PyTorch CPU threads (see runtime.py)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    return p.parse_args(argv)


def prediction_json(p: ImagePrediction) -> Dict[str, object]:
    return {
        "imageId": p.image_id,
        "patientId": p.patient_id,
        "boxes": [
            {"x": float(b[0]), "y": float(b[1]), "width": float(b[2] - b[0]), "height": float(b[3] - b[1]), "confidence": float(b[4])}
            for b in p.boxes
        ],
    }


def write_summary(out: Path, results: List[FoldResult], settings: TrainSettings, seconds: float) -> None:
    predictions = [p for r in results for p in r.predictions]
    scores, labels = patient_scores(predictions)
    threshold, sensitivity, specificity = youden_threshold(scores, labels, MIN_OPERATING_THRESHOLD)
    # Only the top boxes matter for the patient score and the localisation measures.
    (out / "oof.json").write_text(json.dumps({"images": [prediction_json(replace(p, boxes=p.boxes[:20])) for p in predictions]}) + "\n")
    summary = {
        "settings": asdict(settings),
        "trainingSeconds": seconds,
        "folds": [{"fold": r.fold, "bestEpoch": r.best_epoch, "epochsRun": len(r.history), **r.metrics} for r in results],
        "outOfFold": {**summarise(predictions), "patients": int(len(labels)), "tumorPatients": int(labels.sum())},
        "operatingThreshold": {
            "value": threshold,
            "rule": "Youden's J (max sensitivity + specificity - 1)",
            "sensitivity": sensitivity,
            "specificity": specificity,
        },
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    print(f"out-of-fold: {json.dumps(summary['outOfFold'])}; operating threshold {threshold:.4f} (sens {sensitivity:.3f}, spec {specificity:.3f})")


def main(argv: List[str]) -> int:
    args = parse_args(argv)
    if args.img % 32:
        raise SystemExit(f"--img {args.img} is not a multiple of 32")
    configure_threads(args.threads)
    device = select_device(args.device)
    lr = args.lr if args.lr is not None else (0.01 if args.optimizer == "sgd" else 0.002)
    settings = TrainSettings(
        img=args.img,
        size=args.size,
        epochs=args.epochs,
        patience=args.patience,
        batch=args.batch,
        workers=args.workers,
        seed=args.seed,
        init=args.init,
        optim=OptimConfig(name=args.optimizer, lr=lr, warmup_epochs=args.warmup_epochs),
        augment=replace(AugmentConfig(), mosaic=args.mosaic),
    )
    started = time.monotonic()
    records = load_labels(args.data)
    assignment = split_by_patient(records, args.folds, args.seed)
    images = cache_images(records, args.img)
    print(f"{len(records)} images of {len(assignment)} patients cached at {args.img} px in {time.monotonic() - started:.0f} s on {device}", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for fold in args.fold or range(args.folds):
        val = [i for i, r in enumerate(records) if assignment[r.patient_id] == fold]
        train = [i for i, r in enumerate(records) if assignment[r.patient_id] != fold]
        print(f"fold {fold}: {len(train)} training and {len(val)} validation images", flush=True)
        results.append(
            train_fold(
                fold,
                [images[i] for i in train],
                [images[i] for i in val],
                [records[i] for i in val],
                settings,
                args.out,
                device,
            )
        )
    write_summary(args.out, results, settings, time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
