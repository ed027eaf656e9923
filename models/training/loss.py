"""YOLOv5's loss: CIoU box loss, BCE objectness with the matched box's IoU as its target, BCE class
loss; targets matched to anchors whose width/height ratio is within 4x, in their own grid cell and
the two neighbouring cells nearest to the box centre."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Tuple

import torch
from torch import Tensor, nn

from model import STRIDES, YoloDetector

# Objectness weight per level (P3, P4, P5): small-object levels have many more cells.
OBJ_BALANCE = (4.0, 1.0, 0.4)
ANCHOR_RATIO_LIMIT = 4.0
# Each target also trains the neighbour cell(s) whose centre is within half a cell of the target's.
NEIGHBOURS = torch.tensor([[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1]], dtype=torch.float32) * 0.5


def bbox_ciou(pred: Tensor, target: Tensor, eps: float = 1e-7) -> Tensor:
    """Complete IoU of [n, 4] cx, cy, w, h boxes: IoU minus a centre-distance and an aspect term."""
    p1, p2 = pred[:, :2] - pred[:, 2:] / 2, pred[:, :2] + pred[:, 2:] / 2
    t1, t2 = target[:, :2] - target[:, 2:] / 2, target[:, :2] + target[:, 2:] / 2
    inter = (torch.min(p2, t2) - torch.max(p1, t1)).clamp(0).prod(1)
    pw, ph = pred[:, 2], pred[:, 3] + eps
    tw, th = target[:, 2], target[:, 3] + eps
    union = pw * ph + tw * th - inter + eps
    iou = inter / union
    enclosing = torch.max(p2, t2) - torch.min(p1, t1)
    diagonal2 = (enclosing**2).sum(1) + eps
    centre2 = ((pred[:, :2] - target[:, :2]) ** 2).sum(1)
    v = (4 / math.pi**2) * (torch.atan(tw / th) - torch.atan(pw / ph)) ** 2
    with torch.no_grad():
        alpha = v / (v - iou + (1 + eps))
    return iou - (centre2 / diagonal2 + v * alpha)


@dataclass(frozen=True)
class LossWeights:
    box: float
    obj: float
    cls: float

    @staticmethod
    def for_input(img: int, num_classes: int, levels: int = 3) -> "LossWeights":
        # YOLOv5's hyperparameters (box 0.05, obj 1.0, cls 0.5), rescaled to the input size, the
        # number of classes and of levels as YOLOv5 does.
        return LossWeights(box=0.05 * 3 / levels, obj=1.0 * (img / 640) ** 2 * 3 / levels, cls=0.5 * num_classes / 80 * 3 / levels)


@dataclass(frozen=True)
class Matches:
    batch: Tensor
    anchor: Tensor
    gj: Tensor
    gi: Tensor
    #: [m, 4] target cx, cy relative to the cell, w, h, in grid units.
    box: Tensor
    #: [m, 2] the matched anchors in grid units.
    anchor_wh: Tensor
    cls: Tensor


class YoloLoss:
    def __init__(self, model: YoloDetector, img: int) -> None:
        detect = model.detect
        self.num_classes = detect.num_outputs - 5
        strides = torch.tensor(STRIDES, dtype=torch.float32)
        self.anchors = detect.anchors.detach().cpu() / strides.view(-1, 1, 1)
        self.weights = LossWeights.for_input(img, self.num_classes)
        self.bce = nn.BCEWithLogitsLoss()

    def match(self, level: int, targets: Tensor, ny: int, nx: int) -> Matches:
        """targets [n, 6]: image index, class, cx, cy, w, h in input pixels."""
        device = targets.device
        anchors = self.anchors[level].to(device)
        stride = STRIDES[level]
        xy, wh = targets[:, 2:4] / stride, targets[:, 4:6] / stride
        ratio = wh[None] / anchors[:, None]
        anchor_idx, target_idx = (torch.max(ratio, 1 / ratio).amax(2) < ANCHOR_RATIO_LIMIT).nonzero(as_tuple=True)
        xy, wh = xy[target_idx], wh[target_idx]
        inverse = torch.tensor([nx, ny], device=device) - xy
        low = (xy % 1 < 0.5) & (xy > 1)
        high = (inverse % 1 < 0.5) & (inverse > 1)
        use = torch.stack((torch.ones_like(low[:, 0]), low[:, 0], low[:, 1], high[:, 0], high[:, 1]))
        which, pair = use.nonzero(as_tuple=True)
        cell_xy = xy[pair] - NEIGHBOURS.to(device)[which]
        gi = cell_xy[:, 0].long().clamp(0, nx - 1)
        gj = cell_xy[:, 1].long().clamp(0, ny - 1)
        xy, wh = xy[pair], wh[pair]
        rows = target_idx[pair]
        cell = torch.stack((gi, gj), 1).to(xy.dtype)
        return Matches(
            batch=targets[rows, 0].long(),
            anchor=anchor_idx[pair],
            gj=gj,
            gi=gi,
            box=torch.cat((xy - cell, wh), 1),
            anchor_wh=anchors[anchor_idx[pair]],
            cls=targets[rows, 1].long(),
        )

    def __call__(self, raw: List[Tensor], targets: Tensor) -> Tuple[Tensor, Tensor]:
        """Total loss (summed over the batch, as YOLOv5) and its [box, obj, cls] parts per image."""
        device = raw[0].device
        box_loss = torch.zeros((), device=device)
        obj_loss = torch.zeros((), device=device)
        cls_loss = torch.zeros((), device=device)
        for level, p in enumerate(raw):
            _, _, ny, nx, _ = p.shape
            m = self.match(level, targets, ny, nx)
            obj_target = torch.zeros_like(p[..., 4])
            if len(m.batch):
                picked = p[m.batch, m.anchor, m.gj, m.gi]
                xy = picked[:, :2].sigmoid() * 2 - 0.5
                wh = (picked[:, 2:4].sigmoid() * 2) ** 2 * m.anchor_wh
                iou = bbox_ciou(torch.cat((xy, wh), 1), m.box)
                box_loss = box_loss + (1 - iou).mean()
                obj_target[m.batch, m.anchor, m.gj, m.gi] = iou.detach().clamp(0).to(p.dtype)
                cls_target = torch.zeros_like(picked[:, 5:])
                cls_target[torch.arange(len(m.cls), device=device), m.cls] = 1.0
                cls_loss = cls_loss + self.bce(picked[:, 5:], cls_target)
            obj_loss = obj_loss + self.bce(p[..., 4], obj_target) * OBJ_BALANCE[level]
        parts = torch.stack((box_loss * self.weights.box, obj_loss * self.weights.obj, cls_loss * self.weights.cls))
        batch = raw[0].shape[0]
        return parts.sum() * batch, parts.detach()
