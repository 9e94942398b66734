"""Feature dropout with PyTorch's meaning of the rate: every entry is zeroed with probability
``p`` and the kept ones are scaled by ``1 / (1 - p)`` (``torch.nn.functional.dropout``), so the
expectation of every entry is unchanged. PyGCL's ``FeatureDropout(pf)`` calls
``F.dropout(x, p=1 - pf)``: its ``pf`` is the keep rate, the inverse of this ``p``."""

from __future__ import annotations

import numpy as np
import torch

from augkit._counter import threshold24
from augkit.plugins.graph._backend import HAVE_NUMBA, use_numba
from augkit.plugins.graph.functional._common import segments
from augkit.plugins.graph.functional._items import draw63, graph_salts
from augkit.plugins.graph.kernels.streams import STREAM_FEATURE_DROP

if HAVE_NUMBA:
    from augkit.plugins.graph.kernels import feature_dropout as _kernels

_KERNEL_DTYPES = (torch.float32, torch.float64)


def dropout_feature_items(x: torch.Tensor, p: float, seeds: torch.Tensor,
                          applied: torch.Tensor, group: torch.Tensor,
                          num_groups: int) -> torch.Tensor:
    """``x`` (``[rows]`` or ``[rows, features]``, floating) with dropout at rate ``p`` on the
    rows of every group (``group``: the sorted group of every row, e.g. a Batch's ``batch``)
    drawn under the group's seed, entry ``(r, c)`` keyed ``r * features + c`` with ``r`` the
    row's position in its group; groups where ``applied`` is false stay as they are. ``p = 1``
    zeroes every entry. A new tensor; ``x`` is not changed. On the CPU, float32/float64 ``x``
    goes through one numba pass (``kernels.feature_dropout``) with the torch ops' results.

    >>> x = torch.ones(4, 2)
    >>> out = dropout_feature_items(x, 0.5, torch.tensor([3]), torch.tensor([True]),
    ...                             torch.zeros(4, dtype=torch.long), 1)
    >>> sorted(set(out.view(-1).tolist())) in ([0.0, 2.0], [0.0], [2.0])
    True
    """
    flat = x.dim() == 1
    x2 = x.view(-1, 1) if flat else x
    dev = x2.device
    rows, f = x2.shape
    local, _, _ = segments(group.to(dev), num_groups)
    scale = 0.0 if p >= 1.0 else 1.0 / (1.0 - p)
    if use_numba("auto", x2) and x2.dtype in _KERNEL_DTYPES and not x2.requires_grad:
        src = x2.contiguous()
        out = torch.empty_like(src)
        _kernels.dropout_entries(src.numpy(), out.numpy(), seeds.cpu().numpy(),
                                 applied.cpu().numpy(), group.cpu().numpy(), local.numpy(),
                                 threshold24(p), np.dtype(src.numpy().dtype).type(scale))
        return out.view(-1) if flat else out
    salts = graph_salts(seeds.cpu(), STREAM_FEATURE_DROP).to(dev).index_select(0, group.to(dev))
    keys = local.unsqueeze(1) * f + torch.arange(f, device=dev)
    bits = draw63(salts.unsqueeze(1), keys) >> 39  # the top 24 bits of the 63
    drop = bits < threshold24(p)
    drop &= applied.to(dev).index_select(0, group.to(dev)).unsqueeze(1)
    on = applied.to(dev).index_select(0, group.to(dev)).unsqueeze(1)
    factor = torch.where(on, torch.tensor(scale, dtype=x2.dtype, device=dev),
                         torch.tensor(1.0, dtype=x2.dtype, device=dev))
    out = torch.where(drop, torch.zeros((), dtype=x2.dtype, device=dev), x2 * factor)
    return out.view(-1) if flat else out
