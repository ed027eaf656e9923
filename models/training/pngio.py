"""Reads the training set's 8-bit grayscale PNGs with zlib and NumPy alone (Debian's python3 here
has neither Pillow nor OpenCV). The exporter writes unfiltered rows, which decode at zlib speed;
the other PNG filters are handled too, more slowly, for files written by other tools."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter_row(kind: int, row: np.ndarray, prior: np.ndarray) -> np.ndarray:
    if kind == 0:
        return row
    if kind == 1:
        return np.cumsum(row, dtype=np.uint8)
    if kind == 2:
        return row + prior
    out = row.astype(np.int32)
    up = prior.astype(np.int32)
    for x in range(out.size):
        left = int(out[x - 1]) if x else 0
        if kind == 3:
            out[x] = (out[x] + (left + up[x]) // 2) & 255
        else:
            out[x] = (out[x] + _paeth(left, int(up[x]), int(up[x - 1]) if x else 0)) & 255
    return out.astype(np.uint8)


def read_gray8_png(path: Path) -> np.ndarray:
    """[height, width] uint8 of an 8-bit grayscale, non-interlaced PNG."""
    data = Path(path).read_bytes()
    if data[:8] != SIGNATURE:
        raise ValueError(f"{path}: not a PNG")
    offset, idat = 8, []
    width = height = 0
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or color != 0 or interlace != 0:
                raise ValueError(f"{path}: expected 8-bit grayscale non-interlaced, got depth {depth} color type {color}")
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        offset += 12 + length
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8).reshape(height, width + 1)
    filters = raw[:, 0]
    pixels = raw[:, 1:]
    if not filters.any():
        return pixels.copy()
    out = np.empty((height, width), dtype=np.uint8)
    prior = np.zeros(width, dtype=np.uint8)
    for y in range(height):
        prior = out[y] = _unfilter_row(int(filters[y]), pixels[y], prior)
    return out
