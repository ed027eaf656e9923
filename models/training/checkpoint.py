"""Fold checkpoints: the EMA weights with what is needed to rebuild and export the model."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict

import torch

from model import ModelConfig, YoloDetector


@dataclass
class Checkpoint:
    model: YoloDetector
    config: ModelConfig
    img: int
    epoch: int
    metrics: Dict[str, float]


def save_checkpoint(path: Path, model: YoloDetector, img: int, epoch: int, metrics: Dict[str, float]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload: Dict[str, Any] = {
        "config": asdict(model.config),
        "img": img,
        "epoch": epoch,
        "metrics": metrics,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    torch.save(payload, path)


def load_checkpoint(path: Path) -> Checkpoint:
    payload = torch.load(path, map_location="cpu")
    config = ModelConfig(**payload["config"])
    model = YoloDetector(config)
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return Checkpoint(model, config, int(payload["img"]), int(payload["epoch"]), dict(payload["metrics"]))
