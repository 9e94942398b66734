"""Class balance without new features: augmented copies of minority items, or a sampler.

``augkit.balance(dataset, policy=..., sampling_strategy=..., seed=...)`` returns a dataset in
which minority classes are brought up by augmented copies of their own items: each copy is a
fresh draw of the policy's sample stage, taken from the stream ``(seed, copy index)``, so the
balanced dataset is the same every time it is built from the same seed (and in every DataLoader
worker). It is meant for graph classification (a list or PyG dataset of ``Data`` with one
label per graph) but works for any indexable dataset whose items carry a label.

``ClassBalancedSampler`` is the lighter alternative: no copies, the loader draws indices so that
every class comes up equally often in expectation.

``resolve_sampling_strategy`` turns every form imbalanced-learn accepts for
``sampling_strategy`` (float, string, dict, callable) into ``{class: number of new items}``,
with imbalanced-learn's exact rules (its ties, its rounding), without importing it.

``augkit.balance`` is the function; the other names live here, in ``augkit._balance``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from numbers import Real
from typing import Any

import numpy as np
from torch.utils.data import Dataset, Sampler

from augkit._counter import Stream
from augkit.errors import InputError, ParamError
from augkit.policy import Policy, load_policy
from augkit.random import derive_seed, stream
from augkit.transform import Transform

#: The string forms of ``sampling_strategy`` for over-sampling, as in imbalanced-learn.
STRATEGY_NAMES = ("auto", "minority", "not minority", "not majority", "all")

# The key after (seed, Stream.BALANCE) that names the part of balancing a stream serves.
_SOURCES = 0  # which items balance() copies: (seed, BALANCE, _SOURCES)
_COPY = 1  # copy k's augmentation: (seed, BALANCE, _COPY, k)
_SAMPLER = 2  # ClassBalancedSampler's indices of an epoch: (seed, BALANCE, _SAMPLER, epoch)


def _class_counts(y: np.ndarray) -> dict[Any, int]:
    classes, counts = np.unique(y, return_counts=True)
    return {c: int(n) for c, n in zip(classes, counts, strict=True)}


def resolve_sampling_strategy(sampling_strategy: Any, y: Any, owner: str = "sampling_strategy"
                              ) -> dict[Any, int]:
    """``{class: number of items to add}`` for an over-sampler, from any imbalanced-learn form.

    - a float r in (0, 1] (binary y only): the minority class is brought to ``int(r * n_max)``;
    - ``"auto"`` / ``"not majority"``: every class but the majority up to the majority count;
      ``"minority"``: the minority class only; ``"not minority"``; ``"all"``;
    - a dict ``{class: count after resampling}`` (each count >= the class's current count);
    - a callable ``y -> dict`` (Python only; YAML cannot hold one).

    Ties are broken as imbalanced-learn breaks them (the smallest label wins), so the result
    equals ``imblearn.utils.check_sampling_strategy(s, y, "over-sampling")``.
    """
    y = np.asarray(y)
    counts = _class_counts(y)
    if len(counts) < 2:
        only = next(iter(counts), None)
        raise InputError(
            f"{owner}: y has a single class ({only!r}, {len(y)} items); allowed: at least two "
            "classes (there is nothing to balance)"
        )
    n_max = max(counts.values())
    majority = max(counts, key=counts.get)  # first of the ties, as imbalanced-learn
    minority = min(counts, key=counts.get)
    strategy = sampling_strategy
    if callable(strategy) and not isinstance(strategy, str | dict):
        strategy = strategy(y)
        if not isinstance(strategy, dict):
            raise InputError(f"{owner}: the callable returned {type(strategy).__name__}; "
                             "allowed: a dict {class: number of items after resampling}")
    if isinstance(strategy, str):
        if strategy in ("auto", "not majority"):
            chosen = [c for c in counts if c != majority]
        elif strategy == "minority":
            chosen = [minority]
        elif strategy == "not minority":
            chosen = [c for c in counts if c != minority]
        elif strategy == "all":
            chosen = list(counts)
        else:
            raise InputError(f"{owner}: got {strategy!r}; allowed: "
                             + ", ".join(STRATEGY_NAMES))
        return {c: n_max - counts[c] for c in sorted(chosen)}
    if isinstance(strategy, dict):
        unknown = [k for k in strategy if k not in counts]
        if unknown:
            raise InputError(f"{owner}: class(es) {unknown!r} are not in y; allowed: "
                             f"classes of y ({', '.join(repr(c.item()) for c in counts)})")
        out = {}
        for c, target in strategy.items():
            if isinstance(target, bool) or not isinstance(target, int | np.integer) or target < 0:
                raise InputError(f"{owner}: class {c!r}: got {target!r}; allowed: an integer "
                                 "count >= 0")
            if target < counts[c]:
                raise InputError(
                    f"{owner}: class {c!r} has {counts[c]} items and {target} are asked; an "
                    "over-sampler only adds: allowed a count >= the current one"
                )
            out[c] = int(target) - counts[c]
        return dict(sorted(out.items()))
    if isinstance(strategy, Real) and not isinstance(strategy, bool):
        ratio = float(strategy)
        if not 0.0 < ratio <= 1.0:
            raise InputError(f"{owner}: got {ratio!r}; allowed: a float in (0, 1]")
        if len(counts) != 2:
            raise InputError(
                f"{owner}: a float is allowed only for two classes (y has {len(counts)}); "
                "use a dict {class: count} for several classes"
            )
        out = {c: int(n_max * ratio - n) for c, n in counts.items() if c != majority}
        if any(v <= 0 for v in out.values()):
            raise InputError(
                f"{owner}: ratio {ratio} would need fewer minority items than there are "
                f"({counts}); allowed: a ratio above minority/majority"
            )
        return dict(sorted(out.items()))
    raise InputError(
        f"{owner}: got {type(sampling_strategy).__name__}; allowed: a float in (0, 1], one of "
        f"{', '.join(STRATEGY_NAMES)}, a dict {{class: count}}, or a callable y -> dict"
    )


# ---- labels of a dataset -------------------------------------------------------------------


def _scalar_label(value: Any, index: int) -> Any:
    if hasattr(value, "numel"):  # a torch tensor: one label per graph
        if value.numel() != 1:
            raise InputError(
                f"balance: item {index} has a label of shape {tuple(value.shape)}; allowed: one "
                "label per item (graph classification), or pass labels="
            )
        return value.reshape(-1)[0].item()
    arr = np.asarray(value)
    if arr.size != 1:
        raise InputError(f"balance: item {index} has a label of shape {arr.shape}; allowed: one "
                         "label per item, or pass labels=")
    return arr.reshape(-1)[0].item()


def labels_of(dataset: Any) -> np.ndarray:
    """One label per item: PyG datasets' ``y`` (read once, without building every graph),
    an item's ``.y``, or the second element of an ``(x, y)`` item."""
    n = len(dataset)
    mro = {c.__name__ for c in type(dataset).__mro__}
    if "InMemoryDataset" in mro and type(dataset).__module__.startswith("torch_geometric"):
        y = getattr(dataset, "y", None)
        if y is not None and hasattr(y, "numel") and y.numel() == n:
            return y.reshape(-1).cpu().numpy()
    out = []
    for i in range(n):
        item = dataset[i]
        if hasattr(item, "y") and not isinstance(item, tuple | list):
            out.append(_scalar_label(item.y, i))
        elif isinstance(item, tuple | list) and len(item) >= 2:
            out.append(_scalar_label(item[1], i))
        else:
            raise InputError(
                f"balance: item {i} is {type(item).__name__} with no label; allowed: items with "
                "a .y (PyG Data), (x, y) pairs, or pass labels= (one per item)"
            )
    return np.asarray(out)


def _as_labels(labels: Any, n: int, owner: str) -> np.ndarray:
    if hasattr(labels, "detach"):
        labels = labels.detach().cpu().numpy()
    arr = np.asarray(labels)
    if arr.ndim != 1 or len(arr) != n:
        raise InputError(f"{owner}: labels has shape {arr.shape}; allowed: one label per item "
                         f"({n})")
    return arr


# ---- balance() ----------------------------------------------------------------------------


def _as_augmenter(policy: Any) -> tuple[Callable[[Any, Any], Any] | None, int | None]:
    """(function item, generator -> augmented item, the policy's own seed)."""
    if policy is None:
        return None, None
    if isinstance(policy, str | os.PathLike | dict):
        policy = load_policy(policy)
    if isinstance(policy, Policy):
        if policy.views:
            raise ParamError("balance: the policy has views; allowed: a policy whose sample "
                             "stage returns one item (leave views out)")
        p = policy
        return (lambda item, g: p(item, generator=g)), p.seed
    if isinstance(policy, Transform):
        t = policy
        return (lambda item, g: t(item, generator=g)), None
    raise ParamError(f"balance: policy got {type(policy).__name__}; allowed: None (plain "
                     "copies), a Policy, a Transform, a policy path, YAML text or dict")


def _copy_sources(labels: np.ndarray, plan: dict[Any, int], seed: int) -> np.ndarray:
    """Which original item each copy comes from: every item of a class once per full round,
    then a random subset for the remainder (fewer repeats than drawing with replacement)."""
    rng = np.random.default_rng(derive_seed(seed, Stream.BALANCE, _SOURCES))
    parts = []
    for c, n_new in plan.items():
        if n_new <= 0:
            continue
        members = np.flatnonzero(labels == c)
        rounds, rest = divmod(n_new, len(members))
        parts.append(np.tile(members, rounds))
        parts.append(np.sort(rng.choice(members, size=rest, replace=False)))
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


class BalancedDataset(Dataset):
    """The original items, then augmented copies of minority items (built on access).

    ``sources[i]`` is the original index item i comes from; ``labels[i]`` its class. Copy k
    (item ``len(base) + k``) is the policy applied to ``base[sources[i]]`` with the stream
    ``(seed, Stream.BALANCE, _COPY, k)``: the same item every time it is read, in any worker.
    """

    def __init__(self, base: Any, sources: np.ndarray, labels: np.ndarray,
                 augment: Callable[[Any, Any], Any] | None, seed: int) -> None:
        self.base = base
        self.sources = sources
        self.labels = labels
        self.augment = augment
        self.seed = int(seed)
        self.num_original = len(base)

    def __len__(self) -> int:
        return len(self.sources)

    def __getitem__(self, index: int) -> Any:
        if not isinstance(index, int | np.integer) or isinstance(index, bool):
            raise InputError(f"BalancedDataset: index {index!r}; allowed: an integer")
        i = int(index)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"BalancedDataset: index {index} out of range ({len(self)} items)")
        item = self.base[int(self.sources[i])]
        if i < self.num_original or self.augment is None:
            return item
        return self.augment(item, stream(self.seed, Stream.BALANCE, _COPY, i - self.num_original))

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self)):
            yield self[i]

    def class_counts(self) -> dict[Any, int]:
        return _class_counts(self.labels)

    def __repr__(self) -> str:
        return (f"BalancedDataset({self.num_original} original + "
                f"{len(self) - self.num_original} copies, counts={self.class_counts()})")


def balance(
    dataset: Any,
    policy: Any = None,
    *,
    sampling_strategy: Any = "auto",
    seed: int | None = None,
    labels: Any = None,
) -> BalancedDataset:
    """Bring minority classes up with augmented copies of their own items.

    ``policy``: a Policy (its sample stage makes each copy), a Transform, a policy file, YAML
    text or dict, or None for plain copies (random over-sampling). ``sampling_strategy``: any
    imbalanced-learn form (see ``resolve_sampling_strategy``). ``seed``: the stream of the
    copies (default: the policy's seed, else 0). ``labels``: one per item, when items do not
    carry a ``.y``. The dataset itself is never changed.

    >>> from torch_geometric.datasets import FakeDataset                    # doctest: +SKIP
    >>> ds = FakeDataset(num_graphs=50, num_classes=2, task="graph")          # doctest: +SKIP
    >>> out = augkit.balance(ds, "sample:\\n  - edge_dropout: {p: 0.2}\\n")  # doctest: +SKIP
    """
    augment, policy_seed = _as_augmenter(policy)
    if seed is None:
        seed = policy_seed if policy_seed is not None else 0
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParamError(f"balance: seed got {seed!r}; allowed: an integer >= 0")
    n = len(dataset)
    y = labels_of(dataset) if labels is None else _as_labels(labels, n, "balance")
    plan = resolve_sampling_strategy(sampling_strategy, y, "balance: sampling_strategy")
    copies = _copy_sources(y, plan, int(seed))
    sources = np.concatenate([np.arange(n, dtype=np.int64), copies.astype(np.int64)])
    return BalancedDataset(dataset, sources, y[sources], augment, int(seed))


# ---- a class-balanced sampler ---------------------------------------------------------------


class ClassBalancedSampler(Sampler[int]):
    """Indices for ``torch.utils.data.DataLoader(sampler=...)``: each draw picks a class
    uniformly (or by ``class_weights``), then an item of that class uniformly, with
    replacement. In expectation every class is seen equally often; nothing is copied.

    Draws come from the stream ``(seed, epoch)``: call ``set_epoch(e)`` each epoch (as with
    ``DistributedSampler``) for a new, replayable order.
    """

    def __init__(self, labels: Any, num_samples: int | None = None, *, seed: int = 0,
                 class_weights: dict[Any, float] | None = None) -> None:
        super().__init__()
        y = _as_labels(labels, len(labels), "ClassBalancedSampler")
        if len(y) == 0:
            raise InputError("ClassBalancedSampler: no labels; allowed: one label per item")
        self.labels = y
        self.num_samples = len(y) if num_samples is None else int(num_samples)
        if self.num_samples < 0:
            raise ParamError(f"ClassBalancedSampler: num_samples {num_samples}; allowed: >= 0")
        self.seed = int(seed)
        self.epoch = 0
        self.classes, inverse = np.unique(y, return_inverse=True)
        self._order = np.argsort(inverse, kind="stable")  # items grouped by class
        counts = np.bincount(inverse, minlength=len(self.classes))
        self._start = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self._count = counts
        w = np.ones(len(self.classes))
        if class_weights is not None:
            unknown = [c for c in class_weights if c not in set(self.classes.tolist())]
            if unknown:
                raise ParamError(f"ClassBalancedSampler: class_weights names {unknown!r}, not "
                                 "in labels")
            w = np.array([float(class_weights.get(c, 0.0)) for c in self.classes.tolist()])
            if (w < 0).any() or w.sum() <= 0:
                raise ParamError("ClassBalancedSampler: class_weights must be >= 0, not all 0")
        self.class_probabilities = w / w.sum()

    @classmethod
    def from_dataset(cls, dataset: Any, num_samples: int | None = None, *, seed: int = 0,
                     class_weights: dict[Any, float] | None = None) -> ClassBalancedSampler:
        """The sampler for a dataset whose items carry their label (see ``labels_of``)."""
        return cls(labels_of(dataset), num_samples, seed=seed, class_weights=class_weights)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def indices(self) -> np.ndarray:
        """This epoch's indices, as an array."""
        rng = np.random.default_rng(derive_seed(self.seed, Stream.BALANCE, _SAMPLER, self.epoch))
        cls = rng.choice(len(self.classes), size=self.num_samples, p=self.class_probabilities)
        pos = np.floor(rng.random(self.num_samples) * self._count[cls]).astype(np.int64)
        return self._order[self._start[cls] + pos]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples


__all__: Sequence[str] = ["balance", "BalancedDataset", "ClassBalancedSampler",
                          "resolve_sampling_strategy", "labels_of", "STRATEGY_NAMES"]
