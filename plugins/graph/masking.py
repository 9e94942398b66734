"""``feature_masking``: GraphCL attribute masking and its row/element variants."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from augkit import _items
from augkit.errors import InputError, ParamError
from augkit.params import Boolean, Choice, Param, Probability, Text
from augkit.plugins.graph import _pyg, hetero
from augkit.plugins.graph import functional as F
from augkit.plugins.graph._base import GraphTransform


class FeatureMasking(GraphTransform):
    """Masks node (``target: x``) or edge (``target: edge_attr``) features at rate ``p``.

    ``mode``: ``feature`` masks whole columns (GraphCL attribute masking), drawn per graph on
    a Batch; ``node`` whole rows (nodes, or edges for ``edge_attr``); ``element`` single
    entries. ``fill``: ``zero``; ``mean``, the column's mean over the graph; ``normal``, draws
    from a normal with the column's mean and standard deviation over the graph; ``token``
    (GraphMAE's learned [MASK] token), zeros that the model overwrites with its own learned
    token where the returned mask is true (``x[data.node_mask] = mask_token``): a transform
    holds no learnable weights, so ``token`` needs ``return_mask``. A graph without the target
    attribute is an InputError. On HeteroData ``x`` is masked per node type and ``edge_attr``
    per edge type, ``p`` may be set per type (``plugins.graph.hetero``).

    ``return_mask`` (GraphMAE's pretext target): the view also carries, as the attribute
    ``mask_key`` (default ``node_mask``; ``edge_mask`` reads better for ``edge_attr``), a
    boolean tensor, true where the target was masked: one entry per row in ``node`` mode
    (``[rows]``), one per entry in ``feature`` and ``element`` modes (the target's shape). It
    has one row per node (edge), so it collates as a node- (edge-) level attribute of the
    Batch, and the loss reads ``x[mask]``. In the batch stage a graph the step skips
    (``apply_p``) gets an all-false mask, so the Batch keeps one layout; in the sample stage a
    skipped graph has no mask, so keep ``apply_p: 1`` there. On HeteroData the mask of each
    node (edge) type is stored under ``mask_key`` in that type's store (``data["paper"].node_mask``)
    and collates with it.
    """

    name = "feature_masking"
    apply_key = "apply_p"
    params = {
        "p": Param(hetero.PerType(Probability(), "node or edge"), 0.2,
                   "probability that a feature/row/entry is masked, per node (x) or edge type"),
        "mode": Param(Choice(*F.MASK_MODES), "feature",
                      "feature: whole columns; node: whole rows; element: single entries"),
        "fill": Param(Choice(*F.FILL_MODES, "token"), "zero",
                      "zero, the graph's column mean, normal noise with its mean and std, or "
                      "token: zeros the model overwrites with its learned token (return_mask)"),
        "target": Param(Choice("x", "edge_attr"), "x", "which attribute is masked"),
        "return_mask": Param(Boolean(), False,
                             "also return the boolean mask of masked rows/entries (mask_key)"),
        "mask_key": Param(Text(), "node_mask", "the attribute that holds the returned mask"),
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if self.fill == "token" and not self.return_mask:
            raise ParamError(f"{self.label()}: fill: token needs return_mask: true (the model "
                             "writes its learned token where the mask is true); allowed: "
                             "return_mask: true, or fill zero, mean or normal",
                             param="fill", value="token")

    @property
    def _fill_mode(self) -> str:
        """The functional fill: ``token`` fills zeros."""
        return "zero" if self.fill == "token" else self.fill

    def reads_edge_ids(self) -> bool:
        return self.target == "edge_attr"  # a Batch's edges find their graph by their source

    def check_input(self, data: Any) -> None:
        super().check_input(data)
        if hetero.is_hetero(data):
            return  # checked per type by the hetero branch of the base check
        value = _pyg.get(data, self.target)
        if not isinstance(value, torch.Tensor):  # as diffusion_noise: nothing to mask is an error
            raise InputError(f"{self.label()}: the graph has no tensor {self.target}; allowed: "
                             f"a graph with {self.target}, or target set to the attribute it has")
        if value.dim() not in (1, 2):
            raise InputError(
                f"{self.label()}: {self.target} has shape {tuple(value.shape)}; allowed: "
                "[rows] or [rows, features]"
            )

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        if hetero.is_hetero(data):
            return hetero.feature_masking(self, data, params)
        target = self.target
        out = _pyg.shallow_copy(data)
        value = _pyg.get(data, target)
        if value is None:
            return out
        group = None
        k = 1
        if _pyg.is_batch(data):
            k = _pyg.num_graphs(data)
            group = data.batch
            if target == "edge_attr":
                group = group.index_select(0, _pyg.edge_index_of(data)[0])
        masked, keep = F.mask_feature(value, self.p, params["seed"], mode=self.mode,
                                      fill=self._fill_mode, group=group, num_groups=k)
        if not (masked.is_cpu and value.is_cpu):  # is_cpu: no device objects on the CPU path
            masked = masked.to(value.device)
        _pyg.set_attr(out, target, masked)
        if self.return_mask:
            if self.mode == "feature" and group is not None:
                keep = keep.index_select(0, group.to(keep.device))
            self._set_mask(batch_like=data, out=out, value=value, keep=keep)
        return out

    def forward_items(self, batch: Any, generators: Sequence[Any],
                      active: Sequence[bool] | None = None) -> Any:
        out = super().forward_items(batch, generators, active)
        if self.return_mask and out is batch and _pyg.is_batch(batch):
            # No graph drew the step: the Batch still gets its all-false masks (one layout).
            out = self.apply_items(batch, [None] * _pyg.num_graphs(batch))
        return out

    def apply_items(self, batch: Any, params: Sequence[dict[str, Any] | None]) -> Any:
        if not (self.return_mask and hetero.is_hetero(batch)):
            return super().apply_items(batch, params)
        # A skipped graph gets an all-false mask, so the Batch keeps one layout.
        items = _items.split_items(batch)
        out = [hetero.feature_masking(self, item, p) for item, p in zip(items, params,
                                                                       strict=True)]
        return _items.join_items(out, batch)

    def apply_graphs(self, batch: Any, seeds: torch.Tensor, applied: torch.Tensor) -> Any:
        target = self.target
        out = _pyg.shallow_copy(batch)
        value = getattr(batch, target, None)
        if value is None:
            return out
        group = _pyg.batch_vector(batch)
        if target == "edge_attr":
            group = group.index_select(0, _pyg.edge_index_of(batch)[0])
        masked = F.mask_feature_items(value, self.p, seeds.to(value.device),
                                      applied.to(value.device), group,
                                      _pyg.num_graphs(batch), mode=self.mode,
                                      fill=self._fill_mode)
        _pyg.set_attr(out, target, masked)
        if self.return_mask:
            rows = value.size(0)
            cols = value.size(1) if value.dim() == 2 else 1
            keep = F.mask_keep_items((rows, cols), self.p,
                                     seeds.to(value.device), applied.to(value.device),
                                     group, _pyg.num_graphs(batch), mode=self.mode)
            self._set_mask(batch_like=batch, out=out, value=value, keep=keep)
        return out

    def mask_of(self, value: torch.Tensor, keep: torch.Tensor | None) -> torch.Tensor:
        """The returned mask of ``value`` from the kept rows/entries ``keep`` (None: nothing
        masked): ``[rows]`` in node mode, else ``value``'s shape."""
        rows = value.size(0)
        if keep is None:
            shape = (rows,) if self.mode == "node" else value.shape
            return torch.zeros(shape, dtype=torch.bool, device=value.device)
        keep = keep.to(value.device)
        if self.mode == "node":  # keep: [rows, 1] or [rows, features]
            mask = ~keep[:, 0] if keep.size(-1) else torch.zeros(rows, dtype=torch.bool,
                                                                  device=keep.device)
        else:
            mask = ~keep.expand(rows, keep.size(-1)).reshape(value.shape)
        return mask.contiguous()

    def _set_mask(self, *, batch_like: Any, out: Any, value: torch.Tensor,
                  keep: torch.Tensor) -> None:
        """``out.<mask_key>``: true where ``value`` was masked, ``[rows]`` in node mode, else
        ``value``'s shape; on a Batch registered with the target's slices so it collates."""
        _pyg.set_attr(out, self.mask_key, self.mask_of(value, keep))
        if _pyg.is_batch(batch_like) and hasattr(batch_like, "_slice_dict") \
                and self.target in batch_like._slice_dict:
            # PyG has no public way to add a key to a Batch's slices: the mask slices as its
            # target does and is not incremented.
            out._slice_dict = {**out._slice_dict,
                               self.mask_key: batch_like._slice_dict[self.target]}
            inc = batch_like._inc_dict.get(self.target)
            out._inc_dict = {**out._inc_dict,
                             self.mask_key: None if inc is None else torch.zeros_like(
                                 torch.as_tensor(inc))}
