"""Optimiser, learning-rate schedule with warmup, and the exponential moving average of weights."""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class OptimConfig:
    name: str = "sgd"
    #: 0.01 is YOLOv5's for SGD; train.py uses 0.002 for AdamW.
    lr: float = 0.01
    #: Final learning rate as a fraction of lr, reached by a cosine decay.
    final_lr_ratio: float = 0.01
    momentum: float = 0.937
    weight_decay: float = 5e-4
    warmup_epochs: float = 3.0
    warmup_momentum: float = 0.8
    warmup_bias_lr: float = 0.1


def build_optimizer(model: nn.Module, config: OptimConfig) -> torch.optim.Optimizer:
    """Three parameter groups as in YOLOv5: weight decay on convolution weights only, none on
    batch-norm weights or biases (decaying them only fights the normalisation)."""
    decay, no_decay, biases = [], [], []
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            no_decay.append(module.weight)
            biases.append(module.bias)
        elif isinstance(module, nn.Conv2d):
            decay.append(module.weight)
            if module.bias is not None:
                biases.append(module.bias)
    groups = [
        {"params": no_decay, "weight_decay": 0.0},
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": biases, "weight_decay": 0.0},
    ]
    if config.name == "sgd":
        return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum, nesterov=True)
    if config.name == "adamw":
        return torch.optim.AdamW(groups, lr=config.lr, betas=(config.momentum, 0.999))
    raise ValueError(f"unknown optimiser {config.name}")


class Schedule:
    """Per-iteration learning rate and momentum: a linear warmup (biases start high and come down,
    other weights start at zero) into a cosine decay over the epochs."""

    def __init__(self, optimizer: torch.optim.Optimizer, config: OptimConfig, epochs: int, iters_per_epoch: int) -> None:
        self.optimizer = optimizer
        self.config = config
        self.epochs = epochs
        self.iters_per_epoch = iters_per_epoch
        total = epochs * iters_per_epoch
        # At least 100 warmup steps as YOLOv5, but never more than a third of a short run.
        self.warmup_iters = min(max(round(config.warmup_epochs * iters_per_epoch), 100), total // 3)

    def factor(self, epoch: float) -> float:
        progress = min(epoch / max(self.epochs, 1), 1.0)
        r = self.config.final_lr_ratio
        return r + (1 - r) * (1 + math.cos(math.pi * progress)) / 2

    def step(self, iteration: int) -> None:
        epoch = iteration / self.iters_per_epoch
        target = self.config.lr * self.factor(epoch)
        warm = iteration < self.warmup_iters
        w = iteration / self.warmup_iters if warm else 1.0
        for index, group in enumerate(self.optimizer.param_groups):
            is_bias = index == 2
            start = self.config.warmup_bias_lr if is_bias and self.config.name == "sgd" else 0.0
            group["lr"] = start + (target - start) * w
            momentum = self.config.warmup_momentum + (self.config.momentum - self.config.warmup_momentum) * w
            if self.config.name == "sgd":
                group["momentum"] = momentum
            else:
                group["betas"] = (momentum, 0.999)


class ModelEMA:
    """Exponential moving average of the weights (and batch-norm statistics), the weights that are
    validated and exported. The decay ramps up from 0 so that early, poor weights fade quickly; its
    time constant is YOLOv5's 2000 updates, shortened for short runs so the average still settles."""

    def __init__(self, model: nn.Module, total_updates: int, decay: float = 0.9999) -> None:
        self.ema = copy.deepcopy(model).eval()
        for p in self.ema.parameters():
            p.requires_grad_(False)
        self.decay = decay
        self.tau = max(1.0, min(2000.0, total_updates / 5))
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.tau))
        current = model.state_dict()
        for name, value in self.ema.state_dict().items():
            if value.dtype.is_floating_point:
                value.mul_(d).add_(current[name].detach(), alpha=1 - d)
