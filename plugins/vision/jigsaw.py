"""jigsaw: the Jigsaw puzzle pretext task, a tile permutation and its index."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from augkit.errors import InputError, ParamError
from augkit.params import Custom, Integer, Nullable, Param
from augkit.plugins.vision import functional as VF
from augkit.plugins.vision._common import named
from augkit.plugins.vision._pretext import Pretext, _is_batch, as_targets

#: The most permutations a set may hold (Noroozi & Favaro use 100 to 1000).
MAX_PERMUTATIONS = 10_000


def _rows(value: Any) -> tuple[tuple[int, ...], ...]:
    if not isinstance(value, list | tuple) or not value:
        raise ValueError(value)
    rows = []
    for row in value:
        if not isinstance(row, list | tuple) or not all(
                isinstance(v, int | np.integer) and not isinstance(v, bool) for v in row):
            raise ValueError(value)
        rows.append(tuple(int(v) for v in row))
    return tuple(rows)


PERMUTATION_SET = Nullable(Custom(
    _rows, "a list of permutations, each a list of the tile numbers 0 .. grid*grid-1",
    {"type": "array", "items": {"type": "array", "items": {"type": "integer", "minimum": 0}}}))


class Jigsaw(Pretext):
    """Jigsaw puzzles (Noroozi & Favaro 2016): the image is cut into a ``grid`` x ``grid`` grid
    of cells (``side // grid`` pixels; pixels past the last whole cell are dropped), a tile
    of ``cell - gap`` pixels is cut from each cell at a random offset (the jitter that keeps
    the model from matching edges), and the tiles are laid out again in the order of one
    permutation of a fixed set, drawn uniformly per image. Returns ``(view, index)``: output
    tile ``j`` (row by row) is source tile ``permutation_set[index][j]``.

    The set holds ``permutations`` permutations chosen greedily as far apart as can be (each
    next one at the largest Hamming distance from its nearest already chosen: every
    permutation a candidate up to a 3 x 3 grid, 100000 drawn ones above), its tiles and
    places renamed by ``seed`` (see ``functional.maximal_permutations``). Once derived it is
    a parameter like any other: ``to_dict`` and a policy's YAML save it, and a given
    ``permutation_set`` is used as it is (checked: ``permutations`` distinct permutations of
    the tiles).

    Output structure (samples, the batch stage, targets' types): see
    :mod:`augkit.plugins.vision._pretext`.

    >>> import torch, augkit
    >>> view, index = augkit.make("jigsaw", grid=2, permutations=6)(torch.rand(3, 8, 8),
    ...                                                              generator=0)
    >>> view.shape, 0 <= int(index) < 6
    (torch.Size([3, 8, 8]), True)
    """

    name = "jigsaw"
    params = {
        "grid": Param(Integer(2, 8), 3, "tiles per side"),
        "permutations": Param(Integer(1, MAX_PERMUTATIONS), 100,
                              "how many permutations the set holds (the number of classes)"),
        "seed": Param(Integer(0, 2**32 - 1), 0, "seed the permutation set is derived from"),
        "gap": Param(Integer(0, 4096), 0,
                     "pixels each tile is smaller than its cell (jitter room), 0: none"),
        "permutation_set": Param(PERMUTATION_SET, None,
                                 "the permutations (derived from seed when null; saved)"),
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        tiles = self.grid * self.grid
        given = self._params["permutation_set"]
        if given is None:
            try:
                perms = VF.maximal_permutations(self.grid, self.permutations, self.seed)
            except InputError as exc:
                raise ParamError(f"jigsaw.permutations: {exc}", param="permutations",
                                 value=self.permutations) from None
            rows = tuple(tuple(int(v) for v in row) for row in perms)
        else:
            rows = given
            want = tuple(range(tiles))
            if len(rows) != self.permutations or len(set(rows)) != len(rows) or any(
                    tuple(sorted(row)) != want for row in rows):
                raise ParamError(
                    f"jigsaw.permutation_set: got {len(rows)} rows; allowed: {self.permutations}"
                    f" distinct permutations of 0 .. {tiles - 1} (grid {self.grid})",
                    param="permutation_set", value=given)
        self._params["permutation_set"] = rows
        self.__dict__["permutation_set"] = rows
        self._table = np.asarray(rows, dtype=np.int64)

    def permutation(self, index: int) -> np.ndarray:
        """The permutation an index names: output tile j is source tile ``[j]``."""
        return self._table[int(index)].copy()

    def draw(self, n: int, height: int, width: int, generator: torch.Generator) -> dict:
        with named(self.label()):
            VF.tile_size(height, width, self.grid, self.gap)
        index = torch.randint(self.permutations, (n,), generator=generator).numpy()
        tiles = self.grid * self.grid
        if self.gap:
            offsets = torch.randint(self.gap + 1, (n, tiles, 2), generator=generator).numpy()
        else:
            offsets = np.zeros((n, tiles, 2), dtype=np.int64)
        return {"index": index, "offsets": offsets}

    def apply_image(self, image: Any, params: dict[str, Any]) -> Any:
        index = np.asarray(params["index"], dtype=np.int64)
        with named(self.label()):
            view = VF.jigsaw(image, self._table[index], params["offsets"], self.grid, self.gap)
        batch = _is_batch(image)
        if batch and isinstance(image, torch.Tensor):
            index = index.reshape(image.shape[:-3])
        return view, as_targets(index, image, batch)
