"""The training set (images/<imageId>.png + labels.json, written by `knee-tumor training-set`),
folds by patient, and the PyTorch datasets that feed training and validation.

labels.json: {"images": [{imageId, patientId, view, file, width, height, boxes: [{x, y, width, height}]}]}
with `file` relative to labels.json and boxes in the PNG's pixels (top-left corner, size).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from augment import AugmentConfig, augment_sample, letterbox
from pngio import read_gray8_png


@dataclass(frozen=True)
class ImageRecord:
    image_id: str
    patient_id: str
    view: str
    path: Path
    width: int
    height: int
    #: [n, 4] x, y, width, height in original pixels.
    boxes: np.ndarray


def load_labels(data_dir: Path) -> List[ImageRecord]:
    labels = json.loads((data_dir / "labels.json").read_text())
    records = []
    for image in labels["images"]:
        boxes = np.array([[b["x"], b["y"], b["width"], b["height"]] for b in image["boxes"]], dtype=np.float32).reshape(-1, 4)
        records.append(
            ImageRecord(
                image_id=image["imageId"],
                patient_id=image["patientId"],
                view=image["view"],
                path=data_dir / image["file"],
                width=int(image["width"]),
                height=int(image["height"]),
                boxes=boxes,
            )
        )
    if not records:
        raise ValueError(f"{data_dir / 'labels.json'} lists no images")
    return records


def split_by_patient(records: Sequence[ImageRecord], folds: int, seed: int) -> Dict[str, int]:
    """Fold of each patient. Both views of a patient always share a fold; tumor and normal patients
    are dealt out separately so that every fold has the same share of tumors."""
    has_tumor: Dict[str, bool] = {}
    for r in records:
        has_tumor[r.patient_id] = has_tumor.get(r.patient_id, False) or len(r.boxes) > 0
    if len(has_tumor) < folds:
        raise ValueError(f"{len(has_tumor)} patients cannot fill {folds} folds")
    rng = np.random.default_rng(seed)
    assignment: Dict[str, int] = {}
    offset = 0
    for tumor in (True, False):
        patients = sorted(p for p, t in has_tumor.items() if t == tumor)
        for i, patient in enumerate(rng.permutation(patients)):
            assignment[str(patient)] = (offset + i) % folds
        offset += len(patients)
    return assignment


@dataclass(frozen=True)
class CachedImage:
    #: [h, w] uint8, resized so that the longer side equals the training input size.
    pixels: np.ndarray
    #: [n, 4] x1, y1, x2, y2 in the resized image's pixels.
    boxes: np.ndarray
    #: resized / original.
    scale: float


def resize_long_side(gray: np.ndarray, size: int) -> Tuple[np.ndarray, float]:
    """Antialiased bilinear resize so that the longer side is `size`, as the letterbox does."""
    h, w = gray.shape
    scale = size / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    x = torch.from_numpy(gray).float()[None, None]
    resized = F.interpolate(x, size=(new_h, new_w), mode="bilinear", align_corners=False, antialias=scale < 1)
    return resized[0, 0].round().clamp(0, 255).to(torch.uint8).numpy(), scale


def cache_images(records: Sequence[ImageRecord], size: int) -> List[CachedImage]:
    """Decodes every PNG once and keeps it at the training size in memory (a few thousand
    radiographs at 320 to 640 px fit in well under a gigabyte)."""
    cached = []
    for r in records:
        gray = read_gray8_png(r.path)
        if gray.shape != (r.height, r.width):
            raise ValueError(f"{r.path}: {gray.shape[1]}x{gray.shape[0]} px, labels.json says {r.width}x{r.height}")
        pixels, scale = resize_long_side(gray, size)
        xyxy = np.concatenate((r.boxes[:, :2], r.boxes[:, :2] + r.boxes[:, 2:]), 1) * scale
        cached.append(CachedImage(pixels, xyxy.astype(np.float32), scale))
    return cached


def to_targets(xyxy: np.ndarray) -> Tensor:
    """[n, 5]: class 0, cx, cy, w, h in input pixels."""
    t = torch.zeros((len(xyxy), 5))
    if len(xyxy):
        b = torch.from_numpy(xyxy)
        t[:, 1:3] = (b[:, :2] + b[:, 2:]) / 2
        t[:, 3:5] = b[:, 2:] - b[:, :2]
    return t


class TrainSet(Dataset):
    """Augmented samples; each draws its randomness from (seed, epoch, index) so that a run is
    reproducible whatever the number of loader workers."""

    def __init__(self, images: Sequence[CachedImage], size: int, config: AugmentConfig, seed: int) -> None:
        self.images = list(images)
        self.size = size
        self.config = config
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> Tuple[Tensor, Tensor]:
        rng = np.random.default_rng((self.seed, self.epoch, index))
        image, boxes = augment_sample(self.images, index, self.size, self.config, rng)
        return torch.from_numpy(image)[None], to_targets(boxes)


class ValidationSet(Dataset):
    """Letterboxed, unaugmented images, as the runtime's first TTA pass sees them."""

    def __init__(self, images: Sequence[CachedImage], size: int) -> None:
        self.images = list(images)
        self.size = size

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> Tuple[Tensor, Tensor]:
        cached = self.images[index]
        image, boxes, _ = letterbox(cached.pixels.astype(np.float32) / 255, cached.boxes, self.size)
        return torch.from_numpy(image)[None], to_targets(boxes)


def collate(batch: List[Tuple[Tensor, Tensor]]) -> Tuple[Tensor, Tensor]:
    """Images [B, 1, H, W] and targets [n, 6] (image index in the batch, class, cx, cy, w, h)."""
    images = torch.stack([image for image, _ in batch])
    targets = torch.cat([torch.cat((torch.full((len(t), 1), float(i)), t), 1) for i, (_, t) in enumerate(batch)])
    return images, targets
