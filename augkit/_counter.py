"""The counter-based hash under every augkit random stream and every per-element draw.

One mix, splitmix64's finaliser (a bijective 64-bit mix with full avalanche), written once in
three spellings that give the same bits:

- :func:`mix64` on Python ints: stream seeds (:func:`derive_seed`) and salts;
- :func:`mix64_torch` on int64 tensors, wrapping as uint64 arithmetic does: per-element draws
  on the CPU and on CUDA;
- :func:`mix64_u64` on numpy ``uint64`` arrays, and the spelling numba kernels compile
  (``njit(inline="always")(mix64_u64)``; numba stays out of the core's imports).

A draw is a pure function of ``(seed, key)``: the same on every device and in every process,
and the same for every stored copy of one key (both directions of an undirected edge).
Streams are named by :class:`Stream`; nothing here reads or changes global random state.
"""

from __future__ import annotations

import enum
import functools
import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch stays out of the core's imports (``augkit list`` is light)
    import torch

M64 = (1 << 64) - 1
MASK63 = (1 << 63) - 1
#: The golden-ratio increment of splitmix64 (and of the key chain in :func:`derive_seed`).
GOLDEN = 0x9E3779B97F4A7C15
#: The finaliser's two multipliers.
C1 = 0xBF58476D1CE4E5B9
C2 = 0x94D049BB133111EB
_CHAIN_START = 0x243F6A8885A308D3  # pi's fraction: where a key chain starts


class Stream(enum.IntEnum):
    """The first key after the seed that names what a stream is for."""

    SAMPLE = 0  # a transform called on an item with an index: (seed, SAMPLE, epoch, index)
    BATCH = 1  # a batch-only step (mixup): (root, BATCH, epoch, position, *item indices)
    DATASET = 2  # a policy's dataset stage: (seed, DATASET)
    ITEM = 3  # a policy step on one item, in either stage: (root, ITEM, epoch, index, position)
    PROCESS = 0x5EED  # a bare policy's private stream: (seed, PROCESS, rank, worker, seed)
    BALANCE = 0xBA1A  # augkit.balance and its sampler: (seed, BALANCE, part, ...)


def mix64(z: int) -> int:
    """splitmix64's finaliser on a Python int in ``[0, 2**64)``."""
    z = ((z ^ (z >> 30)) * C1) & M64
    z = ((z ^ (z >> 27)) * C2) & M64
    return z ^ (z >> 31)


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


_C1_I64, _C2_I64 = _signed(C1), _signed(C2)


def _srl(z: torch.Tensor, k: int) -> torch.Tensor:
    """Logical right shift of int64 (torch's ``>>`` is arithmetic)."""
    return (z >> k) & ((1 << (64 - k)) - 1)


def mix64_torch(z: torch.Tensor) -> torch.Tensor:
    """:func:`mix64` on an int64 tensor, element by element (wrapping arithmetic)."""
    z = (z ^ _srl(z, 30)) * _C1_I64
    z = (z ^ _srl(z, 27)) * _C2_I64
    return z ^ _srl(z, 31)


_U_C1, _U_C2 = np.uint64(C1), np.uint64(C2)
_U_GOLDEN, _U_MASK63 = np.uint64(GOLDEN), np.uint64(MASK63)
_U30, _U27, _U31 = np.uint64(30), np.uint64(27), np.uint64(31)


def mix64_u64(z: np.ndarray) -> np.ndarray:
    """:func:`mix64` on numpy ``uint64`` (arrays; numba compiles it for scalars)."""
    z = (z ^ (z >> _U30)) * _U_C1
    z = (z ^ (z >> _U27)) * _U_C2
    return z ^ (z >> _U31)


# ---- stream seeds --------------------------------------------------------------------------


def derive_seed(*keys: int) -> int:
    """A 63-bit seed from any tuple of integers, stable across processes and platforms.

    A splitmix64 chain over the keys and their count (so ``(1,)`` and ``(1, 0)`` differ).
    The chain up to the last key is cached: a policy derives ``(seed, stage, epoch, index)``
    for every item, and only the index changes from one to the next.

    >>> derive_seed(0) == derive_seed(0)
    True
    >>> derive_seed(1) != derive_seed(1, 0)
    True
    """
    if not keys:
        return _chain((), None)
    return extend_seed(chain_prefix(keys[:-1], len(keys)), keys[-1])


def chain_prefix(keys: tuple[int, ...], count: int) -> int:
    """The chain state after the leading ``keys`` of a ``count``-key tuple: with it,
    ``extend_seed(chain_prefix(keys, len(keys) + 1), k) == derive_seed(*keys, k)``, which
    lets a kernel derive many streams of one seed without Python calls."""
    return _chain(tuple(int(k) for k in keys), int(count))


def extend_seed(prefix: int, key: int) -> int:
    """The seed of the tuple whose chain state before its last ``key`` is ``prefix``."""
    return mix64((prefix + GOLDEN + (int(key) & M64)) & M64) & MASK63


def derive_seeds(seeds: np.ndarray, key: int) -> np.ndarray:
    """``derive_seed(s, key)`` of every seed ``s`` (an integer array), as int64, in one numpy
    pass: a Batch derives its graphs' streams without a Python call per graph.

    >>> derive_seeds(np.array([0, 5]), 9).tolist() == [derive_seed(0, 9), derive_seed(5, 9)]
    True
    """
    state = _chain_u64(np.uint64(_chain((), 2)), _as_u64(seeds))  # chain_prefix((s,), 2)
    return (_chain_u64(state, np.uint64(int(key) & M64)) & _U_MASK63).view(np.int64)


def extend_seeds(prefix: int, keys: np.ndarray) -> np.ndarray:
    """``extend_seed(prefix, k)`` of every key ``k`` (an integer array), as int64, in one
    numpy pass.

    >>> extend_seeds(chain_prefix((3,), 2), np.arange(2)).tolist() == [derive_seed(3, 0),
    ...                                                                  derive_seed(3, 1)]
    True
    """
    return (_chain_u64(np.uint64(int(prefix) & M64), _as_u64(keys)) & _U_MASK63).view(np.int64)


def _as_u64(values: np.ndarray) -> np.ndarray:
    """Integers as the uint64 words they are modulo ``2**64`` (negative ones wrap)."""
    return np.ascontiguousarray(values, dtype=np.int64).view(np.uint64)


def _chain_u64(state: np.ndarray | np.uint64, keys: np.ndarray | np.uint64) -> np.ndarray:
    """One link of the key chain, ``mix64(state + GOLDEN + key)``, on uint64 words where
    ``state`` or ``keys`` is an array (their sum comes first: numpy wraps array sums silently
    and warns on scalar ones)."""
    return mix64_u64(keys + state + _U_GOLDEN)


@functools.lru_cache(maxsize=256)
def _chain(keys: tuple[int, ...], count: int | None) -> int:
    """The chain state after ``keys`` of a tuple of ``count`` keys (``count`` None: the whole
    tuple, and the state is the final, masked seed)."""
    h = mix64(((len(keys) if count is None else count) + _CHAIN_START) & M64)
    for k in keys:
        h = mix64((h + GOLDEN + (int(k) & M64)) & M64)
    return h & MASK63 if count is None else h


# ---- per-element draws ---------------------------------------------------------------------


def salt_of(seed: int) -> int:
    """The int64 salt a seed adds to every key: the seed times the golden ratio, wrapped."""
    return _signed((int(seed) * GOLDEN) & M64)


def hash_bits24(seed: int, keys: torch.Tensor) -> torch.Tensor:
    """The top 24 bits of ``mix64(key + salt_of(seed))``, as int64 in ``[0, 2**24)``."""
    return _srl(mix64_torch(keys.long() + salt_of(seed)), 40)


def threshold24(p: float) -> int:
    """The cut for a rate ``p``: a key is dropped when its 24-bit hash is below it, so the
    drop probability is exactly ``ceil(p * 2**24) / 2**24``."""
    return int(math.ceil(float(p) * (1 << 24)))


def hash_uniform(seed: int, keys: torch.Tensor) -> torch.Tensor:
    """Uniform float32 in ``[0, 1)`` (24 bits) per key, a pure function of ``(seed, key)``.

    >>> import torch
    >>> keys = torch.arange(4)
    >>> bool((hash_uniform(7, keys) == hash_uniform(7, keys)).all())
    True
    """
    return hash_bits24(seed, keys).float() * (1.0 / (1 << 24))


def hash63(seed: int, keys: torch.Tensor) -> torch.Tensor:
    """Non-negative 63-bit integers ``mix64(key + seed) & MASK63`` per key (``seed`` a
    derived stream seed, added as is)."""
    return mix64_torch(keys.long() + _signed(int(seed) & M64)) & MASK63
