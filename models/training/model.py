"""A YOLOv5-layout detector (v6 backbone: Conv/C3/SPPF, PANet neck, anchor-based Detect head).

Written for this repository from the published architecture; the layer plan, width and depth
multiples, anchors and output decoding match YOLOv5 so that the exported ONNX has the standard
YOLOv5 layout the runtime reads.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Tuple

import torch
from torch import Tensor, nn

from domain import FEATURE_LAYERS

# Anchor (width, height) pairs in input pixels per detection layer, P3/8, P4/16, P5/32.
ANCHORS: Tuple[Tuple[Tuple[int, int], ...], ...] = (
    ((10, 13), (16, 30), (33, 23)),
    ((30, 61), (62, 45), (59, 119)),
    ((116, 90), (156, 198), (373, 326)),
)
STRIDES: Tuple[int, int, int] = (8, 16, 32)

# (depth multiple, width multiple) per model size.
SIZES = {"n": (0.33, 0.25), "s": (0.33, 0.50), "m": (0.67, 0.75)}


@dataclass(frozen=True)
class ModelConfig:
    size: str = "n"
    num_classes: int = 1

    @property
    def depth_multiple(self) -> float:
        return SIZES[self.size][0]

    @property
    def width_multiple(self) -> float:
        return SIZES[self.size][1]


def _channels(c: int, width: float) -> int:
    """Scaled channel count rounded up to a multiple of 8, as YOLOv5 does."""
    return int(math.ceil(c * width / 8) * 8)


def _depth(n: int, depth: float) -> int:
    return max(round(n * depth), 1)


class Conv(nn.Module):
    """Convolution, batch norm, SiLU."""

    def __init__(self, c_in: int, c_out: int, k: int = 1, s: int = 1, p: int | None = None) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, s, k // 2 if p is None else p, bias=False)
        # Momentum 0.1 rather than YOLOv5's 0.03: in runs of a few hundred steps the weights move
        # faster than 0.03 lets the running statistics follow, and validation (eval mode) lags.
        self.bn = nn.BatchNorm2d(c_out, eps=1e-3, momentum=0.1)
        self.act = nn.SiLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, c: int, shortcut: bool) -> None:
        super().__init__()
        self.cv1 = Conv(c, c, 1)
        self.cv2 = Conv(c, c, 3)
        self.add = shortcut

    def forward(self, x: Tensor) -> Tensor:
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C3(nn.Module):
    """CSP block: half the channels go through n bottlenecks, the other half bypass them."""

    def __init__(self, c_in: int, c_out: int, n: int, shortcut: bool = True) -> None:
        super().__init__()
        hidden = c_out // 2
        self.cv1 = Conv(c_in, hidden, 1)
        self.cv2 = Conv(c_in, hidden, 1)
        self.cv3 = Conv(2 * hidden, c_out, 1)
        self.m = nn.Sequential(*(Bottleneck(hidden, shortcut) for _ in range(n)))

    def forward(self, x: Tensor) -> Tensor:
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class SPPF(nn.Module):
    """Spatial pyramid pooling, fast: three chained 5x5 max pools equal pools of 5, 9 and 13."""

    def __init__(self, c_in: int, c_out: int, k: int = 5) -> None:
        super().__init__()
        hidden = c_in // 2
        self.cv1 = Conv(c_in, hidden, 1)
        self.cv2 = Conv(hidden * 4, c_out, 1)
        self.pool = nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x: Tensor) -> Tensor:
        x = self.cv1(x)
        y1 = self.pool(x)
        y2 = self.pool(y1)
        return self.cv2(torch.cat((x, y1, y2, self.pool(y2)), 1))


class Detect(nn.Module):
    """One 1x1 convolution per level predicting, per anchor, 4 box terms, objectness and classes."""

    def __init__(self, num_classes: int, channels: Tuple[int, int, int]) -> None:
        super().__init__()
        self.num_outputs = num_classes + 5
        self.num_anchors = len(ANCHORS[0])
        self.m = nn.ModuleList(nn.Conv2d(c, self.num_outputs * self.num_anchors, 1) for c in channels)
        self.register_buffer("strides", torch.tensor(STRIDES, dtype=torch.float32))
        self.register_buffer("anchors", torch.tensor(ANCHORS, dtype=torch.float32))
        self._initialize_biases(num_classes)

    def _initialize_biases(self, num_classes: int) -> None:
        # Start objectness at about 8 objects per 640 image and classes near 0.6 / nc, so that
        # the first iterations are not spent unlearning a 0.5 prior on every cell.
        for conv, stride in zip(self.m, STRIDES):
            bias = conv.bias.view(self.num_anchors, -1)
            with torch.no_grad():
                bias[:, 4] += math.log(8 / (640 / stride) ** 2)
                bias[:, 5:] += math.log(0.6 / (num_classes - 0.99))

    def raw(self, features: List[Tensor]) -> List[Tensor]:
        """Per level [batch, anchors, ny, nx, 5 + classes] logits, as the loss consumes them."""
        out = []
        for conv, x in zip(self.m, features):
            y = conv(x)
            batch, _, ny, nx = y.shape
            out.append(y.view(batch, self.num_anchors, self.num_outputs, ny, nx).permute(0, 1, 3, 4, 2).contiguous())
        return out

    def decode(self, raw: List[Tensor]) -> Tensor:
        """[batch, rows, 5 + classes]: cx, cy, w, h in input pixels, then sigmoid scores.

        Rows run level by level (P3, P4, P5) and, inside a level, anchor by anchor over the grid
        in row-major order, exactly as YOLOv5's export. The grid is built from each feature map's
        own shape so that a traced graph accepts any input height and width.
        """
        rows = []
        for i, p in enumerate(raw):
            batch, _, ny, nx, _ = p.shape
            na, no = self.num_anchors, self.num_outputs
            ys = torch.arange(ny, device=p.device, dtype=p.dtype)
            xs = torch.arange(nx, device=p.device, dtype=p.dtype)
            gy, gx = torch.meshgrid(ys, xs, indexing="ij")
            grid = torch.stack((gx, gy), 2).view(1, 1, ny, nx, 2)
            anchor_wh = self.anchors[i].to(p.dtype).view(1, na, 1, 1, 2)
            s = p.sigmoid()
            xy = (s[..., :2] * 2 - 0.5 + grid) * self.strides[i].to(p.dtype)
            wh = (s[..., 2:4] * 2) ** 2 * anchor_wh
            rows.append(torch.cat((xy, wh, s[..., 4:]), -1).view(batch, na * ny * nx, no))
        return torch.cat(rows, 1)


class YoloDetector(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        d, w = config.depth_multiple, config.width_multiple
        c = {k: _channels(k, w) for k in (64, 128, 256, 512, 1024)}
        # Backbone: stride-2 convolutions down to P5, C3 blocks between them, SPPF on top.
        self.stem = Conv(3, c[64], 6, 2, 2)
        self.down2 = Conv(c[64], c[128], 3, 2)
        self.c3_2 = C3(c[128], c[128], _depth(3, d))
        self.down3 = Conv(c[128], c[256], 3, 2)
        self.c3_3 = C3(c[256], c[256], _depth(6, d))
        self.down4 = Conv(c[256], c[512], 3, 2)
        self.c3_4 = C3(c[512], c[512], _depth(9, d))
        self.down5 = Conv(c[512], c[1024], 3, 2)
        self.c3_5 = C3(c[1024], c[1024], _depth(3, d))
        self.sppf = SPPF(c[1024], c[1024])
        # PANet neck: top-down to P3, then bottom-up back to P5.
        self.lat5 = Conv(c[1024], c[512], 1)
        self.up = nn.Upsample(scale_factor=2.0, mode="nearest")
        self.td4 = C3(c[1024], c[512], _depth(3, d), shortcut=False)
        self.lat4 = Conv(c[512], c[256], 1)
        self.td3 = C3(c[512], c[256], _depth(3, d), shortcut=False)
        self.bu3 = Conv(c[256], c[256], 3, 2)
        self.bu4 = C3(c[512], c[512], _depth(3, d), shortcut=False)
        self.bu4_down = Conv(c[512], c[512], 3, 2)
        self.bu5 = C3(c[1024], c[1024], _depth(3, d), shortcut=False)
        self.detect = Detect(config.num_classes, (c[256], c[512], c[1024]))

    def features(self, x: Tensor) -> List[Tensor]:
        p3 = self.c3_3(self.down3(self.c3_2(self.down2(self.stem(x)))))
        p4 = self.c3_4(self.down4(p3))
        p5 = self.sppf(self.c3_5(self.down5(p4)))
        h5 = self.lat5(p5)
        h4 = self.lat4(self.td4(torch.cat((self.up(h5), p4), 1)))
        out3 = self.td3(torch.cat((self.up(h4), p3), 1))
        out4 = self.bu4(torch.cat((self.bu3(out3), h4), 1))
        out5 = self.bu5(torch.cat((self.bu4_down(out4), h5), 1))
        return [out3, out4, out5]

    def forward(self, x: Tensor) -> List[Tensor]:
        """Raw per-level logits (training and loss)."""
        return self.detect.raw(self.features(x))

    def predict(self, x: Tensor) -> Tensor:
        """Decoded [batch, rows, 5 + classes] (validation and export)."""
        return self.detect.decode(self.forward(x))


class ExportWrapper(nn.Module):
    """What the ONNX graph computes: images [B, 3, H, W] in 0..1 to output0 [B, rows, 6] and, with a
    domain layer (domain.FEATURE_LAYERS), that layer's globally average-pooled map [B, channels]:
    the features out-of-domain detection compares with the training images'."""

    def __init__(self, model: YoloDetector, domain_layer: str | None = None) -> None:
        super().__init__()
        self.model = model
        self.domain_layer = domain_layer
        self._captured: List[Tensor] = []
        if domain_layer is not None:
            module = model.get_submodule(FEATURE_LAYERS[domain_layer].replace("/", "."))
            module.register_forward_hook(lambda _m, _i, output: self._captured.append(output))

    def forward(self, images: Tensor) -> Tensor | Tuple[Tensor, Tensor]:
        self._captured.clear()
        decoded = self.model.predict(images)
        if self.domain_layer is None:
            return decoded
        return decoded, self._captured[-1].mean(dim=(2, 3))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
