"""The graph plugin's one backend seam: which implementation a function runs.

Every public graph function takes ``backend``:

- ``"auto"`` (default): numba when it is installed, every tensor given is on the CPU and no
  :func:`numba_disabled` block is active; torch ops otherwise;
- ``"torch"``: torch ops, on any device (what CUDA runs; the readable reference);
- ``"numba"``: the numba kernels; a ``ParamError`` without numba or with a tensor off the CPU.

Both give the same result for the same seed (``double_edge_swap`` excepted: see there).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import torch

from augkit.errors import ParamError

try:  # numba is an optional accelerator (the graph extra); torch ops are always there.
    import numba  # noqa: F401

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - numba ships with the graph extra
    HAVE_NUMBA = False

BACKENDS = ("auto", "torch", "numba")

_state = threading.local()


@contextlib.contextmanager
def numba_disabled() -> Iterator[None]:
    """Within the block (on this thread), ``backend="auto"`` runs the torch ops, as on a
    machine without numba: the CPU runs what CUDA runs.

    >>> import torch
    >>> with numba_disabled():
    ...     use_numba("auto", torch.zeros(1))
    False
    """
    before = getattr(_state, "disabled", False)
    _state.disabled = True
    try:
        yield
    finally:
        _state.disabled = before


def _auto_numba() -> bool:
    """Whether ``backend="auto"`` may run numba at all (installed, no block disabling it)."""
    return HAVE_NUMBA and not getattr(_state, "disabled", False)


def numba_on(device: torch.device) -> bool:
    """:func:`use_numba` ``("auto", ...)`` of tensors on ``device``, for a function handed a
    size and a device instead of tensors."""
    return device.type == "cpu" and _auto_numba()


def use_numba(backend: str, *tensors: torch.Tensor) -> bool:
    """Whether ``backend`` runs the numba kernels on ``tensors``; a ``ParamError`` for an
    unknown backend, or ``"numba"`` where it cannot run.

    >>> import torch
    >>> use_numba("torch", torch.zeros(1))
    False
    >>> use_numba("fast", torch.zeros(1))
    Traceback (most recent call last):
    ...
    augkit.errors.ParamError: backend: got 'fast'; allowed: 'auto', 'torch', 'numba'
    """
    if backend == "auto" and len(tensors) == 1:  # the common call, without the generator
        # is_cpu: the same answer as device.type == "cpu" without building a device object.
        return tensors[0].is_cpu and _auto_numba()
    if backend == "torch":
        return False
    on_cpu = all(t.device.type == "cpu" for t in tensors)
    if backend == "auto":
        return on_cpu and _auto_numba()
    if backend == "numba":
        if not HAVE_NUMBA:
            raise ParamError("backend: got 'numba', which needs numba installed (the graph "
                             "extra); allowed here: 'auto', 'torch'",
                             param="backend", value=backend)
        if not on_cpu:
            devices = sorted({str(t.device) for t in tensors if t.device.type != "cpu"})
            raise ParamError(f"backend: got 'numba', which runs on CPU tensors only, not on "
                             f"{', '.join(devices)}; allowed here: 'auto', 'torch'",
                             param="backend", value=backend)
        return True
    raise ParamError(f"backend: got {backend!r}; allowed: 'auto', 'torch', 'numba'",
                     param="backend", value=backend)
