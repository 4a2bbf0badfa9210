"""Which device a model runs on, how many CPU threads torch may use, and which
autocast dtype fits the device."""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from typing import TYPE_CHECKING

import torch

from actdesk.errors import ActdeskError

if TYPE_CHECKING:
    from actdesk.plugins.spec import ModelSpec

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def select_device(name: str | torch.device = "auto") -> torch.device:
    """Resolve ``auto``, ``cpu``, ``cuda`` or ``cuda:N`` to a usable :class:`torch.device`.

    ``auto`` picks CUDA when present, else the CPU. Asking for CUDA where there
    is none (or for a GPU index that does not exist) raises :class:`ActdeskError`.
    """
    if isinstance(name, torch.device):
        name = str(name)
    text = name.strip().lower()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if text == "cpu":
        return torch.device("cpu")
    if text == "cuda" or text.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ActdeskError(
                f"device {name!r} was asked for but no CUDA device is available "
                f"(torch {torch.__version__}, built for CUDA {torch.version.cuda or 'none'}); use --device cpu"
            )
        if text == "cuda":
            return torch.device("cuda")
        index_text = text.split(":", 1)[1]
        if not index_text.isdigit():
            raise ActdeskError(f"device {name!r}: expected cuda:N with N a GPU number")
        count = torch.cuda.device_count()
        if int(index_text) >= count:
            raise ActdeskError(f"device {name!r}: only {count} CUDA device(s) present (cuda:0..cuda:{count - 1})")
        return torch.device("cuda", int(index_text))
    raise ActdeskError(f"unknown device {name!r}; expected auto, cpu, cuda or cuda:N")


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def configure_threads(decode_threads: int | None = None) -> tuple[int, int]:
    """Split the CPU cores between video decoding and torch so they do not oversubscribe.

    ``decode_threads`` None takes the media reader's default (half the cores,
    at least one); torch gets the rest (at least one). Sets torch's intra-op
    thread count, which is process-wide. Returns ``(decode_threads,
    torch_threads)``; pass the first to the video reader.
    """
    from actdesk.media import default_decode_threads

    cores = available_cores()
    if decode_threads is None:
        decode_threads = default_decode_threads()
    if decode_threads < 1:
        raise ActdeskError(f"decode threads must be at least 1, got {decode_threads}")
    torch_threads = max(1, cores - decode_threads)
    if torch.get_num_threads() != torch_threads:
        torch.set_num_threads(torch_threads)
    return decode_threads, torch_threads



HIDDEN_DECODE_SHARE = 0.5
"""Decoding counts as hidden behind the model while it needs at most this share of the model's time."""


def torch_threads_beside_decoding(decode_s: float, model_s: float, torch_threads: int, cores: int) -> int:
    """Torch threads for the rest of a labelling run, from its first batches' timings.

    :func:`configure_threads` starts a run with the cores split between the
    decoder and torch. On a CPU the model is usually far the heavier half
    (bundled model, 320x240 video: the decode thread is busy about 3 % of the
    time), so the decoder's share idles. ``decode_s`` is the decode thread's
    busy time and ``model_s`` the forward passes' time over the same batches,
    run with ``torch_threads``. Given every core, the model's time shrinks by
    at most ``torch_threads / cores``; if decoding would still take no more
    than :data:`HIDDEN_DECODE_SHARE` of it, torch gets every core (the decode
    thread then wakes only briefly between its waits on the full queue), else
    the split stays.
    """
    if model_s <= 0 or torch_threads >= cores:
        return torch_threads
    if decode_s * cores / torch_threads <= HIDDEN_DECODE_SHARE * model_s:
        return cores
    return torch_threads


CPU_INFERENCE_BATCH = 2
"""Clips per forward pass on the CPU. A 3D model's activations for larger batches no longer
fit the cache and cost more per clip: bundled model on 2 threads, two runs, batch 1 5.8 / 5.5
ms a clip, 2 4.3 / 4.4, 4 4.2 / 7.4 (the cache is shared with other machines' work), 16 8.0 /
8.6 (docs/benchmarks.md)."""
GPU_INFERENCE_BATCH = 16
"""Clips per forward pass on a GPU, where larger batches fill the device."""


def default_inference_batch(device: torch.device) -> int:
    """Clips per forward pass for labelling on ``device`` when the user gives none."""
    return CPU_INFERENCE_BATCH if device.type == "cpu" else GPU_INFERENCE_BATCH

_M_MMAP_THRESHOLD = -3  # glibc's mallopt() parameter number
MMAP_THRESHOLD_BYTES = 128 << 10
"""Allocations from this size up get their own pages, returned to the system when freed.
glibc's own starting value; pinning it only stops glibc from raising it. A batch of 4
clips of 16x48x48 RGB is 442 KiB: with 1 MiB here its buffers were still heap-allocated
and 10 minutes of video took 1.24x the memory of 1 minute (128 KiB: 1.01)."""


@functools.cache
def keep_large_buffers_off_the_heap() -> bool:
    """Pin glibc's mmap threshold so labelling memory stays flat as videos grow.

    The decode thread allocates each clip batch and the main thread frees it;
    glibc raises its mmap threshold after every large free, so later batches
    and activations land in the threads' heaps, which fragment and grow with
    the length of the video (2.5x the peak memory for 10 minutes against 1,
    measured by ``actdesk bench``). A fixed threshold keeps those buffers in
    their own pages. Process-wide, done once; a no-op off glibc or where the
    user set ``MALLOC_MMAP_THRESHOLD_``. Returns whether it was applied.
    """
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1


def autocast_dtype(device: torch.device, spec: "ModelSpec") -> torch.dtype | None:
    """The autocast dtype for ``spec`` on ``device``: bf16 where the GPU has it, else fp16;
    None (run in float32) on the CPU or when the plugin says autocast is unsafe."""
    if device.type != "cuda" or not spec.supports_amp:
        return None
    with torch.cuda.device(device):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
