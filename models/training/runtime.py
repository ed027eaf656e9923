"""Where the recipe runs: thread count on the shared CPU machine, or the GPU when there is one."""
from __future__ import annotations

import os

import torch


def configure_threads(threads: int) -> None:
    """Caps intra-op threads. On the 2-core development machine, shared with other work, one thread
    is the default: measured there, a training step of YOLOv5n at 320 px took about 0.6 s with one
    thread and 1 to 11 s with two whenever anything else ran, because OpenMP's two threads wait
    for each other at every operation while one of them is descheduled."""
    # Denormal floats (gradients and optimiser moments near zero) make x86 arithmetic many times
    # slower; flushing them to zero changes nothing that matters to training. Set before the
    # thread pool starts, so that its threads inherit the setting.
    torch.set_flush_denormal(True)
    torch.set_num_threads(max(1, min(threads, os.cpu_count() or 1)))


def select_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)
