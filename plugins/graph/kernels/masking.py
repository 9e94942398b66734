"""Kernels of feature masking: the keep draws, the selects between ``x`` and a per-group fill,
the per-group fill statistics and the normal fill.

An entry's draw is ``bits24(key, salt)`` (``augkit._counter.hash_bits24``), kept when at
least ``thresh``; the key of a column is ``graph * num_features + column``, of a row its
index, of an entry ``row * num_features + column``."""

import math

import numpy as np
from numba import njit

from augkit.plugins.graph.kernels.common import bits24


@njit(cache=True, nogil=True)
def mask_zero(x, salt, thresh, by_col, out, keep):
    """Draws (``keep``, per column or per row) and zero-fill masking of a small ``x`` into
    ``out`` in one call: what the broadcast select computes, without its tensor ops."""
    n, f = x.shape
    for i in range(keep.shape[0]):
        keep[i] = bits24(i, salt) >= thresh
    zero = x.dtype.type(0)
    for r in range(n):
        for c in range(f):
            k = keep[c] if by_col else keep[r]
            v = x[r, c]  # loaded unconditionally: a select, not a branch (see mask_elements)
            out[r, c] = v if k else zero


@njit(cache=True, nogil=True)
def select_bits(xb, outb, mb, fb, gid, by_col, grouped, zero, lo, hi):
    """``(x & m) | (fill & ~m)`` on the bits of rows lo..hi, ``m`` all ones where kept: per
    (graph, column) in feature mode (``by_col``), per row in node mode."""
    f = xb.shape[1]
    for r in range(lo, hi):
        g = gid[r] if grouped else 0
        if by_col:
            if zero:
                for c in range(f):
                    outb[r, c] = xb[r, c] & mb[g, c]
            else:
                for c in range(f):
                    m = mb[g, c]
                    outb[r, c] = (xb[r, c] & m) | (fb[g, c] & ~m)
        else:
            m = mb[r, 0]
            if zero:
                for c in range(f):
                    outb[r, c] = xb[r, c] & m
            else:
                for c in range(f):
                    outb[r, c] = (xb[r, c] & m) | (fb[g, c] & ~m)


@njit(cache=True, nogil=True)
def hash_keep(count, salt, thresh, keep):
    """``keep[i]``: whether key ``i`` of ``0..count-1`` is kept."""
    for i in range(count):
        keep[i] = bits24(i, salt) >= thresh


@njit(cache=True, nogil=True)
def mask_rows(x, out, rowkeep, gid, fill):
    """``out[i] = x[i]`` where the row is kept, else the fill row of its graph."""
    for i in range(x.shape[0]):
        if rowkeep[i]:
            for j in range(x.shape[1]):
                out[i, j] = x[i, j]
        else:
            g = gid[i]
            for j in range(x.shape[1]):
                out[i, j] = fill[g, j]


@njit(cache=True, nogil=True)
def group_sums(x, gid, grouped, s, sq, cnt):
    """Per-group column sums and sums of squares in float64, the rows added in order (as
    torch's index_add_ adds them, so the statistics are the same). False (nothing written
    past the arrays) at a group id outside 0..len(cnt)-1."""
    for i in range(x.shape[0]):
        g = gid[i] if grouped else 0
        if g < 0 or g >= cnt.shape[0]:
            return False
        cnt[g] += 1.0
        for j in range(x.shape[1]):
            v = np.float64(x[i, j])
            s[g, j] += v
            sq[g, j] += v * v
    return True


@njit(cache=True, nogil=True)
def mask_cols(x, out, colkeep, gid, fill):
    """``out[i, j] = x[i, j]`` where column j of the row's graph is kept, else its fill."""
    for i in range(x.shape[0]):
        g = gid[i]
        for j in range(x.shape[1]):
            v = x[i, j]
            fv = fill[g, j]
            out[i, j] = v if colkeep[g, j] else fv


@njit(cache=True, nogil=True)
def mask_elements(x, out, gid, fill, salt, thresh, keep, row0=0, grouped=True):
    """Draws (``keep``) and masking of single entries. ``row0``: the row of x[0] in the whole
    x (the arrays may be a chunk of rows); an entry's draw is keyed by its global position,
    so chunks agree with one pass. ``grouped`` False: one group, ``gid`` unread."""
    f = x.shape[1]
    for i in range(x.shape[0]):
        g = gid[i] if grouped else 0
        base = (row0 + i) * f
        for j in range(f):
            k = bits24(base + j, salt) >= thresh
            keep[i, j] = k
            # Both values loaded before the choice, so LLVM emits a select and vectorizes;
            # loaded under the condition, it branched on a random keep (bench
            # graph/feature_masking).
            v = x[i, j]
            fv = fill[g, j]
            out[i, j] = v if k else fv


@njit(cache=True, nogil=True)
def normal_fill(out, keep, gid, mean, std, salt):
    """Every masked entry of ``out`` gets a Box-Muller draw from the normal of its group and
    column (keys ``2 * entry`` and ``2 * entry + 1``)."""
    f = out.shape[1]
    for i in range(out.shape[0]):
        g = gid[i]
        for j in range(f):
            if not keep[i, j]:
                key = 2 * (i * f + j)
                u1 = (bits24(key, salt) + 1) * (1.0 / 16777216.0)
                u2 = bits24(key + 1, salt) * (1.0 / 16777216.0)
                z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
                out[i, j] = mean[g, j] + std[g, j] * z


@njit(cache=True, nogil=True)
def normal_fill_items(out, keep, gid, local, mean, std, salts):
    """:func:`normal_fill` with a salt per group and keys local to it: row ``i`` is row
    ``local[i]`` of its group ``gid[i]``, drawn as that group alone would draw it."""
    f = out.shape[1]
    for i in range(out.shape[0]):
        g = gid[i]
        salt = salts[g]
        for j in range(f):
            if not keep[i, j]:
                key = 2 * (local[i] * f + j)
                u1 = (bits24(key, salt) + 1) * (1.0 / 16777216.0)
                u2 = bits24(key + 1, salt) * (1.0 / 16777216.0)
                z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
                out[i, j] = mean[g, j] + std[g, j] * z


@njit(cache=True, nogil=True)
def mask_items(x, gid, salts, applied, thresh, mode, fill, out, keep):
    """The draws and the select of ``functional.mask_feature_items`` in one call: group
    ``g`` (the rows of one graph, stored group by group) draws with ``salts[g]`` and keys
    local to it; ``mode`` 0 per (group, column), 1 per row, 2 per entry. ``out`` gets ``x``
    where kept, else the group's ``fill`` row; ``keep`` the mask (true in groups not
    ``applied``). False (nothing written) at a group id outside 0..len(salts)-1."""
    n, f = x.shape
    k = salts.shape[0]
    start = np.zeros(k, np.int64)
    for i in range(n):
        g = gid[i]
        if g < 0 or g >= k:
            return False
        start[g] += 1
    total = 0
    for g in range(k):  # the first row of each group
        c = start[g]
        start[g] = total
        total += c
    cols = np.empty((k if mode == 0 else 0, f), np.bool_)
    for g in range(cols.shape[0]):
        for c in range(f):
            cols[g, c] = (not applied[g]) or bits24(c, salts[g]) >= thresh
    for i in range(n):
        g = gid[i]
        local = i - start[g]
        row = (not applied[g]) or bits24(local, salts[g]) >= thresh if mode == 1 else True
        for c in range(f):
            if mode == 0:
                kk = cols[g, c]
            elif mode == 1:
                kk = row
            else:
                kk = (not applied[g]) or bits24(local * f + c, salts[g]) >= thresh
            keep[i, c] = kk
            v = x[i, c]  # both loaded before the choice: a select (see mask_elements)
            fv = fill[g, c]
            out[i, c] = v if kk else fv
    return True
