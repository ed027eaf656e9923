"""Post-processing and the method's measures used during training: NMS, average precision and the
localisation rate at IoU > 0.2, patient-level ROC AUC and the Youden operating threshold."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

LOCALISATION_IOU = 0.2


def xywh_to_xyxy(b: Tensor) -> Tensor:
    return torch.cat((b[..., :2] - b[..., 2:4] / 2, b[..., :2] + b[..., 2:4] / 2), -1)


def box_iou(a: Tensor, b: Tensor) -> Tensor:
    """[n, m] IoU of x1, y1, x2, y2 boxes."""
    area_a = (a[:, 2:] - a[:, :2]).clamp(0).prod(1)
    area_b = (b[:, 2:] - b[:, :2]).clamp(0).prod(1)
    inter = (torch.min(a[:, None, 2:], b[None, :, 2:]) - torch.max(a[:, None, :2], b[None, :, :2])).clamp(0).prod(2)
    return inter / (area_a[:, None] + area_b[None] - inter + 1e-9)


def nms(decoded: Tensor, score_threshold: float, iou_threshold: float, max_detections: int, max_candidates: int = 3000) -> Tensor:
    """[k, 5] x1, y1, x2, y2, confidence (objectness x class) for one image's [rows, 6] output."""
    scores = decoded[:, 4] * decoded[:, 5:].amax(1)
    keep = scores > score_threshold
    boxes, scores = xywh_to_xyxy(decoded[keep, :4]), scores[keep]
    order = scores.argsort(descending=True)[:max_candidates]
    boxes, scores = boxes[order], scores[order]
    kept: List[int] = []
    alive = torch.ones(len(scores), dtype=torch.bool)
    for i in range(len(scores)):
        if not alive[i]:
            continue
        kept.append(i)
        if len(kept) == max_detections:
            break
        alive[i + 1 :] &= box_iou(boxes[i : i + 1], boxes[i + 1 :])[0] <= iou_threshold
    index = torch.tensor(kept, dtype=torch.long)
    return torch.cat((boxes[index], scores[index, None]), 1)


@dataclass(frozen=True)
class ImagePrediction:
    image_id: str
    patient_id: str
    #: [k, 5] x1, y1, x2, y2, confidence in original pixels, best first.
    boxes: np.ndarray
    #: [n, 4] reference x1, y1, x2, y2 in original pixels.
    reference: np.ndarray

    @property
    def score(self) -> float:
        return float(self.boxes[0, 4]) if len(self.boxes) else 0.0


def average_precision(predictions: Sequence[ImagePrediction], iou: float = LOCALISATION_IOU) -> Tuple[float, float]:
    """AP (all-point interpolation) over every box of every image, a box being a true positive
    when it is the best-scoring box to overlap a still unmatched reference lesion with IoU > iou;
    and the localisation rate: the share of lesions that some box overlaps with IoU > iou."""
    scored: List[Tuple[float, bool]] = []
    lesions = found = 0
    for p in predictions:
        lesions += len(p.reference)
        if not len(p.reference):
            scored.extend((float(s), False) for s in p.boxes[:, 4])
            continue
        overlaps = box_iou(torch.from_numpy(p.boxes[:, :4]).float(), torch.from_numpy(p.reference).float()).numpy()
        found += int((overlaps > iou).any(0).sum()) if len(p.boxes) else 0
        matched = np.zeros(len(p.reference), dtype=bool)
        for row, s in zip(overlaps, p.boxes[:, 4]):
            candidates = np.where((row > iou) & ~matched)[0]
            hit = len(candidates) > 0
            if hit:
                matched[candidates[row[candidates].argmax()]] = True
            scored.append((float(s), hit))
    if lesions == 0:
        return 0.0, 0.0
    scored.sort(key=lambda t: -t[0])
    hits = np.array([h for _, h in scored], dtype=np.float64)
    tp = np.cumsum(hits)
    recall = np.concatenate(([0.0], tp / lesions))
    precision = np.concatenate(([1.0], tp / np.arange(1, len(hits) + 1)))
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    return float(np.sum((recall[1:] - recall[:-1]) * envelope[1:])), found / lesions


def patient_scores(predictions: Sequence[ImagePrediction]) -> Tuple[np.ndarray, np.ndarray]:
    """The method's patient score (highest box confidence over both views) and tumor label."""
    score: Dict[str, float] = {}
    tumor: Dict[str, bool] = {}
    for p in predictions:
        score[p.patient_id] = max(score.get(p.patient_id, 0.0), p.score)
        tumor[p.patient_id] = tumor.get(p.patient_id, False) or len(p.reference) > 0
    ids = sorted(score)
    return np.array([score[i] for i in ids]), np.array([tumor[i] for i in ids])


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mann-Whitney AUC with ties counted as one half; NaN without both classes."""
    pos, neg = scores[labels], scores[~labels]
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None]).sum()
    ties = (pos[:, None] == neg[None]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


def youden_threshold(scores: np.ndarray, labels: np.ndarray, floor: float) -> Tuple[float, float, float]:
    """Threshold (a patient is positive when score >= threshold) that maximises sensitivity +
    specificity - 1, the highest such one on ties; never below `floor`. Returns it with its
    sensitivity and specificity."""
    best = (-1.0, floor, 0.0, 0.0)
    positives, negatives = max(int(labels.sum()), 1), max(int((~labels).sum()), 1)
    for t in sorted({float(s) for s in scores if s >= floor} | {floor}, reverse=True):
        sensitivity = float((scores[labels] >= t).sum()) / positives
        specificity = float((scores[~labels] < t).sum()) / negatives
        j = sensitivity + specificity - 1
        if j > best[0]:
            best = (j, t, sensitivity, specificity)
    return best[1], best[2], best[3]
