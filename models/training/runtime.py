"""Where the recipe runs: thread count on the shared CPU machine, or the GPU when there is one."""
from __future__ import annotations

import os

import torch


def configure_threads(threads: int) -> None:
    """Caps intra-op threads: the development machine has 2 cores shared between engineers, and
    more threads than cores make PyTorch's OpenMP pool spin against itself."""
    threads = max(1, min(threads, os.cpu_count() or 1))
    torch.set_num_threads(threads)


def select_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)
