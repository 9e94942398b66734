"""New memory for large CPU outputs (see ``HUGE_OUTPUT_BYTES``): used by the kernels that
write outputs of many megabytes (batch erasing and mixup, degree-preserving rewiring)."""

from __future__ import annotations

import numpy as np
import torch

# From this size a CPU output is allocated by numpy: numpy asks the kernel for transparent huge
# pages (madvise), so first touching the new memory faults once per 2 MiB instead of once per
# 4 KiB. A 154 MB batch copy measured 17 ms this way against 35 ms for ``clone()`` (fastest of
# 21), and far steadier on a VM where every fault can exit to the hypervisor.
HUGE_OUTPUT_BYTES = 8 << 20


def fresh_empty_like(t: torch.Tensor) -> torch.Tensor:
    """An uninitialised contiguous tensor of ``t``'s shape, dtype and device (through a numpy
    allocation for large CPU tensors of a dtype numpy has, see ``HUGE_OUTPUT_BYTES``). The
    numpy-backed result is an ordinary tensor except that its storage cannot be resized in
    place."""
    if t.device.type == "cpu" and t.numel() * t.element_size() >= HUGE_OUTPUT_BYTES:
        try:
            np_dtype = torch.empty(0, dtype=t.dtype).numpy().dtype
        except (TypeError, RuntimeError):  # bfloat16 and other dtypes numpy lacks
            pass
        else:
            return torch.from_numpy(np.empty(tuple(t.shape), dtype=np_dtype))
    return torch.empty_like(t, memory_format=torch.contiguous_format)


def fresh_copy(t: torch.Tensor) -> torch.Tensor:
    """A copy of ``t`` in new memory: ``clone()``, or for a large contiguous CPU tensor
    without autograd :func:`fresh_empty_like` filled with ``t``."""
    if t.device.type != "cpu" or t.requires_grad or not t.is_contiguous():
        return t.clone()
    return fresh_empty_like(t).copy_(t)
