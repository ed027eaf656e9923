"""Training augmentation: intensity jitter (the grayscale analogue of YOLOv5's HSV jitter),
mosaic and a random affine (scale, translate, left-right flip). Images are float32 0..1 arrays
[h, w]; boxes are [n, 4] x1, y1, x2, y2 in that image's pixels. Everything outside an image is
0, the letterbox padding the detector sees at inference."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence, Tuple

import numpy as np
from scipy import ndimage


class SourceImage(Protocol):
    pixels: np.ndarray
    boxes: np.ndarray


@dataclass(frozen=True)
class AugmentConfig:
    #: Probability of a 4-image mosaic instead of a single letterboxed image. Below YOLOv5's 1.0
    #: so that half the samples look like inference: one knee, letterboxed.
    mosaic: float = 0.5
    #: Zoom factor drawn from 1 +/- scale. Narrower than YOLOv5's 0.5: knee radiographs are framed
    #: alike, and a 0.5 zoom-out would make small lesions a few pixels wide at 320 px.
    scale: float = 0.3
    #: Shift as a fraction of the input size.
    translate: float = 0.1
    flip_lr: float = 0.5
    #: Multiplicative brightness drawn from 1 +/- gain.
    gain: float = 0.3
    #: Gamma drawn from exp(+/- gamma).
    gamma: float = 0.3
    #: Contrast about the image mean drawn from 1 +/- contrast.
    contrast: float = 0.2
    #: Boxes that keep less than this share of their area, or less than min_side px, are dropped.
    min_area_ratio: float = 0.1
    min_side: float = 2.0


def jitter_intensity(gray: np.ndarray, config: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    gamma = float(np.exp(rng.uniform(-config.gamma, config.gamma)))
    contrast = rng.uniform(1 - config.contrast, 1 + config.contrast)
    gain = rng.uniform(1 - config.gain, 1 + config.gain)
    x = gray**gamma
    mean = float(x.mean())
    return np.clip(((x - mean) * contrast + mean) * gain, 0, 1).astype(np.float32)


def letterbox(gray: np.ndarray, boxes: np.ndarray, size: int) -> Tuple[np.ndarray, np.ndarray, Tuple[int, int]]:
    """Centres an image whose longer side is `size` on a size x size zero canvas; returns the
    canvas, the shifted boxes and the (x, y) offset."""
    h, w = gray.shape
    x0, y0 = (size - w) // 2, (size - h) // 2
    canvas = np.zeros((size, size), dtype=np.float32)
    canvas[y0 : y0 + h, x0 : x0 + w] = gray
    return canvas, boxes + np.array([x0, y0, x0, y0], dtype=np.float32), (x0, y0)


def mosaic(images: Sequence[SourceImage], indices: Sequence[int], size: int, config: AugmentConfig, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """Four images around a random centre of a 2*size canvas, each at its own scale (so lesions
    keep their size), as YOLOv5's mosaic."""
    canvas = np.zeros((2 * size, 2 * size), dtype=np.float32)
    xc, yc = (int(v) for v in rng.uniform(size / 2, 3 * size / 2, 2))
    all_boxes = []
    for quadrant, index in enumerate(indices):
        source = images[index]
        gray = jitter_intensity(source.pixels.astype(np.float32) / 255, config, rng)
        h, w = gray.shape
        # Corner of the canvas region and of the image part that lands in it, per quadrant.
        left = quadrant % 2 == 0
        top = quadrant < 2
        x1, x2 = (max(xc - w, 0), xc) if left else (xc, min(xc + w, 2 * size))
        y1, y2 = (max(yc - h, 0), yc) if top else (yc, min(yc + h, 2 * size))
        sx1 = w - (x2 - x1) if left else 0
        sy1 = h - (y2 - y1) if top else 0
        canvas[y1:y2, x1:x2] = gray[sy1 : sy1 + (y2 - y1), sx1 : sx1 + (x2 - x1)]
        shift = np.array([x1 - sx1, y1 - sy1, x1 - sx1, y1 - sy1], dtype=np.float32)
        all_boxes.append(source.boxes + shift)
    return canvas, np.concatenate(all_boxes).reshape(-1, 4)


def random_affine(canvas: np.ndarray, boxes: np.ndarray, size: int, config: AugmentConfig, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """Zooms about the canvas centre, shifts, optionally mirrors, and crops a size x size input."""
    zoom = rng.uniform(1 - config.scale, 1 + config.scale)
    shift = rng.uniform(0.5 - config.translate, 0.5 + config.translate, 2) * size
    flip = rng.random() < config.flip_lr
    ch, cw = canvas.shape
    # Forward map in (x, y): out = A @ in + b, with pixel centres at +0.5.
    a = np.diag([-zoom if flip else zoom, zoom])
    centre = np.array([cw / 2, ch / 2])
    b = np.array([size - shift[0] if flip else shift[0], shift[1]]) - a @ centre
    # scipy maps output indices (row, col) to input indices, so invert and swap the axes.
    inverse = np.linalg.inv(a)
    matrix = inverse[::-1, ::-1]
    offset = (inverse @ (0.5 - b) - 0.5)[::-1]
    out = ndimage.affine_transform(canvas, matrix, offset=offset, output_shape=(size, size), order=1, mode="constant", cval=0.0)

    if not len(boxes):
        return out.astype(np.float32), boxes
    corners = np.stack((boxes[:, [0, 1]], boxes[:, [2, 3]]), 1) @ a.T + b
    moved = np.concatenate((corners.min(1), corners.max(1)), 1)
    clipped = moved.clip(0, size)
    area_before = (moved[:, 2] - moved[:, 0]) * (moved[:, 3] - moved[:, 1])
    w, h = clipped[:, 2] - clipped[:, 0], clipped[:, 3] - clipped[:, 1]
    keep = (w > config.min_side) & (h > config.min_side) & (w * h > config.min_area_ratio * area_before)
    return out.astype(np.float32), clipped[keep].astype(np.float32)


def augment_sample(images: Sequence[SourceImage], index: int, size: int, config: AugmentConfig, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """One training input [size, size] with its boxes."""
    if rng.random() < config.mosaic:
        others = rng.integers(0, len(images), 3)
        canvas, boxes = mosaic(images, [index, *others], size, config, rng)
    else:
        source = images[index]
        gray = jitter_intensity(source.pixels.astype(np.float32) / 255, config, rng)
        canvas, boxes, _ = letterbox(gray, source.boxes, size)
    return random_affine(canvas, boxes, size, config, rng)
