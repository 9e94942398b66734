"""Jigsaw puzzles: a grid of tiles, permuted by one of a fixed set of permutations chosen far
apart from each other (Noroozi & Favaro 2016)."""

from __future__ import annotations

import itertools
import math
from functools import lru_cache
from typing import Any

import numpy as np
import torch

from augkit._memory import empty_output_like
from augkit.errors import InputError
from augkit.plugins.vision.functional._images import _check_image, _is_pil, _rewrap, image_size

#: Up to this many tiles every permutation is a candidate (9! for a 3 x 3 grid); above it,
#: the candidates are this many permutations drawn from the seed.
ALL_PERMUTATIONS_UP_TO = 9
CANDIDATES = 100_000


def permutation_candidates(tiles: int, rng: np.random.Generator) -> np.ndarray:
    """Every permutation of ``tiles`` (up to 9 tiles), else ``CANDIDATES`` distinct random
    ones drawn from ``rng``: ``(K, tiles)`` int8."""
    if tiles <= ALL_PERMUTATIONS_UP_TO:
        flat = np.fromiter(itertools.chain.from_iterable(itertools.permutations(range(tiles))),
                           dtype=np.int8, count=math.factorial(tiles) * tiles)
        return flat.reshape(-1, tiles)
    base = np.tile(np.arange(tiles, dtype=np.int8), (CANDIDATES, 1))
    return np.unique(rng.permuted(base, axis=1), axis=0)


@lru_cache(maxsize=16)
def _maximal(tiles: int, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    candidates = permutation_candidates(tiles, rng)
    if count > len(candidates):
        raise InputError(f"{count} permutations of {tiles} tiles; allowed: at most "
                         f"{len(candidates)}")
    chosen = [0]
    nearest = (candidates != candidates[0]).sum(1)
    for _ in range(count - 1):
        nearest[chosen] = -1
        pick = int(nearest.argmax())
        chosen.append(pick)
        nearest = np.minimum(nearest, (candidates != candidates[pick]).sum(1))
    perms = candidates[chosen].astype(np.int64)
    # Renaming the tiles and the positions keeps every Hamming distance: the seed picks one
    # renaming of the set the deterministic greedy pass chose.
    tiles_of, places = rng.permutation(tiles), rng.permutation(tiles)
    out = tiles_of[perms[:, places]]
    out.flags.writeable = False
    return out


def maximal_permutations(grid: int, count: int, seed: int) -> np.ndarray:
    """``(count, grid * grid)`` permutations, greedily as far apart as can be: from the first
    candidate (the identity, when every permutation is one), each next one the first
    candidate whose Hamming distance to the nearest already chosen is largest; then the tiles
    and the places are renamed by two permutations drawn from ``seed`` (which keeps every
    distance). The same arguments give the same set (on one numpy version: a policy saves the
    set itself)."""
    return _maximal(grid * grid, count, seed).copy()


def min_hamming(perms: Any) -> int:
    """The smallest Hamming distance between two permutations of the set."""
    p = np.asarray(perms)
    if len(p) < 2:
        return p.shape[1] if p.ndim == 2 else 0
    d = (p[:, None, :] != p[None, :, :]).sum(-1)
    d[np.diag_indices(len(p))] = p.shape[1]
    return int(d.min())


def tile_size(height: int, width: int, grid: int, gap: int) -> tuple[int, int]:
    """(height, width) of each tile: the cell (the image's side // grid) less the gap."""
    th, tw = height // grid - gap, width // grid - gap
    if th < 1 or tw < 1:
        raise InputError(f"image of {height}x{width} cut into a {grid}x{grid} grid with gap "
                         f"{gap}; allowed: sides of at least grid * (gap + 1) pixels")
    return th, tw


def _source_index(perms: np.ndarray, offsets: np.ndarray, height: int, width: int,
                  grid: int, gap: int) -> np.ndarray:
    """``(N, H' * W')`` flat pixel index of the source of each output pixel."""
    th, tw = tile_size(height, width, grid, gap)
    ch, cw = height // grid, width // grid
    n, tiles = perms.shape
    src = perms  # output position j shows source tile perms[:, j]
    top = (src // grid) * ch + offsets[..., 0]  # (N, tiles)
    left = (src % grid) * cw + offsets[..., 1]
    ys = top[..., None] + np.arange(th)  # (N, tiles, th)
    xs = left[..., None] + np.arange(tw)  # (N, tiles, tw)
    flat = ys[..., :, None] * width + xs[..., None, :]  # (N, tiles, th, tw)
    flat = flat.reshape(n, grid, grid, th, tw).transpose(0, 1, 3, 2, 4)
    return flat.reshape(n, grid * th * grid * tw)


def jigsaw(image: Any, perms: Any, offsets: Any, grid: int, gap: int = 0) -> Any:
    """The image's tiles rearranged: output tile ``j`` (row by row) is source tile
    ``perms[j]``, cut at ``offsets[j]`` (row, column, each in ``[0, gap]``) inside its cell
    of ``side // grid`` pixels; ``perms`` is ``(tiles,)`` for one image, ``(N, tiles)`` for a
    batch. The view is ``grid * tile`` pixels a side (pixels past the last whole cell are
    dropped). Differentiable for tensors."""
    _check_image(image)
    if _is_pil(image):
        from PIL import Image

        return Image.fromarray(jigsaw(np.asarray(image), perms, offsets, grid, gap))
    h, w = image_size(image)
    th, tw = tile_size(h, w, grid, gap)
    perms = np.asarray(perms, dtype=np.int64).reshape(-1, grid * grid)
    offsets = np.asarray(offsets, dtype=np.int64).reshape(len(perms), grid * grid, 2)
    if (offsets < 0).any() or (offsets > gap).any():
        raise InputError(f"tile offsets outside [0, {gap}]; allowed: within the gap")
    if isinstance(image, torch.Tensor) and not offsets.any():
        return _rewrap(_jigsaw_blocks(image, perms, grid, th, tw), image)
    index = _source_index(perms, offsets, h, w, grid, gap)
    if isinstance(image, torch.Tensor):
        lead, c = image.shape[:-3], image.shape[-3]
        x = image.reshape(-1, c, h * w)
        if len(perms) != x.shape[0]:
            raise InputError(f"got {len(perms)} permutations for {x.shape[0]} images")
        idx = torch.from_numpy(index).to(image.device)[:, None, :].expand(-1, c, -1)
        out = torch.gather(x, 2, idx).reshape(*lead, c, grid * th, grid * tw)
        return _rewrap(out, image)
    batch = image.ndim == 4
    x = image if batch else image[None]
    if len(perms) != x.shape[0]:
        raise InputError(f"got {len(perms)} permutations for {x.shape[0]} images")
    rest = x.shape[3:]
    flat = x.reshape(x.shape[0], h * w, -1)
    out = np.take_along_axis(flat, index[..., None], axis=1)
    out = out.reshape(x.shape[0], grid * th, grid * tw, *rest)
    return out if batch else out[0]


def _jigsaw_blocks(image: torch.Tensor, perms: np.ndarray, grid: int, th: int,
                   tw: int) -> torch.Tensor:
    """Tiles cut at their cells' corners: for each output place, every image's source tile
    taken in one indexing call (a tile's rows stay contiguous)."""
    lead, c = image.shape[:-3], image.shape[-3]
    x = image.reshape(-1, c, *image.shape[-2:])[..., : grid * th, : grid * tw]
    n = x.shape[0]
    if len(perms) != n:
        raise InputError(f"got {len(perms)} permutations for {n} images")
    cells = x.unflatten(-1, (grid, tw)).unflatten(-3, (grid, th))  # (n, c, g, th, g, tw)
    out = empty_output_like(x, (n, c, grid, th, grid, tw))
    rows = torch.arange(n, device=image.device)
    source = torch.from_numpy(perms).to(image.device)
    for j in range(grid * grid):
        r, col = divmod(j, grid)
        out[:, :, r, :, col, :] = cells[rows, :, source[:, j] // grid, :, source[:, j] % grid, :]
    return out.reshape(*lead, c, grid * th, grid * tw)
