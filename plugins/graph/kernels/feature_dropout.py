"""Kernel of feature dropout: one pass over ``x``, the draw of every entry and its select.

Entry ``(r, c)`` of a row at position ``l`` in its group draws ``hash63(l * F + c, salt)``
(``augkit._counter.hash63`` under the salt ``derive_seed(seed, STREAM_FEATURE_DROP)`` of the
group's seed) and is zeroed when its top 24 bits are below ``thresh``; kept entries are
multiplied by ``scale`` in ``x``'s dtype."""

import numpy as np
from numba import njit

from augkit.plugins.graph.kernels.common import hash63, stream_salts
from augkit.plugins.graph.kernels.streams import STREAM_FEATURE_DROP

_S39 = np.int64(39)


@njit(cache=True, nogil=True)
def dropout_entries(x, out, seeds, applied, gid, local, thresh, scale):
    """``out``: ``x`` with the entries of the rows of applied groups dropped or scaled; group
    ``g`` draws under seed ``seeds[g]``."""
    salts = stream_salts(seeds, STREAM_FEATURE_DROP)
    n, f = x.shape
    zero = x.dtype.type(0)
    for r in range(n):
        g = gid[r]
        if not applied[g]:
            for c in range(f):
                out[r, c] = x[r, c]
            continue
        salt = salts[g]
        base = local[r] * f
        for c in range(f):
            v = x[r, c] * scale
            out[r, c] = zero if (hash63(base + c, salt) >> _S39) < thresh else v
