"""Training of one cross-validation fold, with validation after every epoch and early stopping."""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch.utils.data import DataLoader

from augment import AugmentConfig
from checkpoint import load_checkpoint, save_checkpoint
from dataset import CachedImage, ImageRecord, TrainSet, ValidationSet, collate
from loss import YoloLoss
from metrics import ImagePrediction, average_precision, nms, patient_scores, roc_auc
from model import ModelConfig, YoloDetector
from optim import ModelEMA, OptimConfig, Schedule, build_optimizer

# Validation drops the boxes the runtime drops (the manifest's default scoreThreshold), which also
# keeps NMS cheap while an early model scores every cell alike.
VAL_SCORE_THRESHOLD = 0.01
VAL_NMS_IOU = 0.45
VAL_MAX_DETECTIONS = 300
GRAD_CLIP_NORM = 10.0


@dataclass(frozen=True)
class TrainSettings:
    img: int
    size: str
    epochs: int
    patience: int
    batch: int
    workers: int
    seed: int
    #: Checkpoint every fold starts from (e.g. a model trained on a disjoint phantom set, in place
    #: of the study's COCO weights); None trains from scratch.
    init: Optional[Path] = None
    optim: OptimConfig = field(default_factory=OptimConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)


@dataclass
class FoldResult:
    fold: int
    best_epoch: int
    metrics: Dict[str, float]
    predictions: List[ImagePrediction]
    history: List[Dict[str, float]]


def _gray_to_rgb(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    """The method repeats the gray plane into the 3 input channels. Channels-last is the layout
    oneDNN (CPU) and cuDNN convolutions run fastest in."""
    return images.to(device, non_blocking=True).expand(-1, 3, -1, -1).contiguous(memory_format=torch.channels_last)


@torch.no_grad()
def validate(
    model: YoloDetector,
    loss_fn: YoloLoss,
    loader: DataLoader,
    images: Sequence[CachedImage],
    records: Sequence[ImageRecord],
    img: int,
    device: torch.device,
) -> Tuple[float, List[ImagePrediction]]:
    """Mean loss per image and the predictions mapped back to original pixels."""
    model.eval()
    total_loss, predictions, seen = 0.0, [], 0
    for batch_images, targets in loader:
        raw = model(_gray_to_rgb(batch_images, device))
        loss, _ = loss_fn(raw, targets.to(device))
        total_loss += float(loss)
        decoded = model.detect.decode(raw).float().cpu()
        for row in decoded:
            cached, record = images[seen], records[seen]
            h, w = cached.pixels.shape
            offset = torch.tensor([(img - w) // 2, (img - h) // 2] * 2, dtype=torch.float32)
            kept = nms(row, VAL_SCORE_THRESHOLD, VAL_NMS_IOU, VAL_MAX_DETECTIONS)
            kept[:, :4] = (kept[:, :4] - offset) / cached.scale
            reference = np.concatenate((record.boxes[:, :2], record.boxes[:, :2] + record.boxes[:, 2:]), 1)
            predictions.append(ImagePrediction(record.image_id, record.patient_id, kept.numpy(), reference))
            seen += 1
    return total_loss / max(seen, 1), predictions


def summarise(predictions: Sequence[ImagePrediction]) -> Dict[str, float]:
    ap20, localisation = average_precision(predictions)
    scores, labels = patient_scores(predictions)
    return {"ap20": ap20, "localisation20": localisation, "patientAuc": roc_auc(scores, labels)}


def train_fold(
    fold: int,
    train_images: Sequence[CachedImage],
    val_images: Sequence[CachedImage],
    val_records: Sequence[ImageRecord],
    settings: TrainSettings,
    out_dir: Path,
    device: torch.device,
) -> FoldResult:
    torch.manual_seed(settings.seed + fold)
    model = YoloDetector(ModelConfig(size=settings.size))
    if settings.init is not None:
        start = load_checkpoint(settings.init)
        if start.config != model.config:
            raise ValueError(f"{settings.init} holds a {start.config} model, not {model.config}")
        model.load_state_dict(start.model.state_dict())
    model = model.to(device, memory_format=torch.channels_last)
    train_set = TrainSet(train_images, settings.img, settings.augment, seed=settings.seed + fold)
    train_loader = DataLoader(
        train_set,
        batch_size=settings.batch,
        shuffle=True,
        num_workers=settings.workers,
        collate_fn=collate,
        generator=torch.Generator().manual_seed(settings.seed + fold),
    )
    val_loader = DataLoader(ValidationSet(val_images, settings.img), batch_size=settings.batch, num_workers=settings.workers, collate_fn=collate)
    loss_fn = YoloLoss(model, settings.img)
    optimizer = build_optimizer(model, settings.optim)
    schedule = Schedule(optimizer, settings.optim, settings.epochs, len(train_loader))
    ema = ModelEMA(model, settings.epochs * len(train_loader))

    fold_dir = out_dir / f"fold{fold}"
    history: List[Dict[str, float]] = []
    best: Tuple[float, float] = (-1.0, 0.0)
    best_epoch, best_predictions, best_metrics = -1, [], {}
    iteration = 0
    for epoch in range(settings.epochs):
        started = time.monotonic()
        model.train()
        train_set.set_epoch(epoch)
        parts_sum = torch.zeros(3)
        loss_sum = 0.0
        for batch_images, targets in train_loader:
            schedule.step(iteration)
            raw = model(_gray_to_rgb(batch_images, device))
            loss, parts = loss_fn(raw, targets.to(device))
            if not torch.isfinite(loss):
                raise FloatingPointError(f"fold {fold} epoch {epoch}: loss is {float(loss)}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP_NORM)
            optimizer.step()
            ema.update(model)
            loss_sum += float(loss) / len(batch_images)
            parts_sum += parts.cpu()
            iteration += 1
        train_seconds = time.monotonic() - started
        val_loss, predictions = validate(ema.ema, loss_fn, val_loader, val_images, val_records, settings.img, device)
        metrics = summarise(predictions)
        steps = max(len(train_loader), 1)
        record = {
            "epoch": epoch,
            "trainLoss": loss_sum / steps,
            "boxLoss": float(parts_sum[0]) / steps,
            "objLoss": float(parts_sum[1]) / steps,
            "clsLoss": float(parts_sum[2]) / steps,
            "valLoss": val_loss,
            **metrics,
            "trainSeconds": train_seconds,
            "epochSeconds": time.monotonic() - started,
        }
        history.append(record)
        fold_dir.mkdir(parents=True, exist_ok=True)
        (fold_dir / "history.json").write_text(json.dumps({"settings": asdict(settings), "epochs": history}, indent=2, default=str) + "\n")
        print(
            f"fold {fold} epoch {epoch + 1}/{settings.epochs}: loss {record['trainLoss']:.4f} "
            f"(box {record['boxLoss']:.4f} obj {record['objLoss']:.4f} cls {record['clsLoss']:.4f}) "
            f"val loss {val_loss:.4f} AP20 {metrics['ap20']:.3f} loc20 {metrics['localisation20']:.3f} "
            f"AUC {metrics['patientAuc']:.3f} [{train_seconds:.0f}+{record['epochSeconds'] - train_seconds:.0f} s]",
            flush=True,
        )
        # Early stopping on AP at IoU > 0.2 (the method's localisation criterion, and it also
        # counts false-positive boxes); the validation loss breaks ties, e.g. while AP is still 0.
        fitness = (metrics["ap20"], -val_loss)
        if fitness > best:
            best, best_epoch, best_predictions, best_metrics = fitness, epoch, predictions, {**metrics, "valLoss": val_loss}
            save_checkpoint(fold_dir / "best.pt", ema.ema, settings.img, epoch, best_metrics)
        elif epoch - best_epoch >= settings.patience:
            print(f"fold {fold}: no improvement for {settings.patience} epochs, stopping", flush=True)
            break
    return FoldResult(fold, best_epoch, best_metrics, best_predictions, history)
