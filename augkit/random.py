"""Seeding: every random draw in augkit comes from a generator handed down explicitly.

Streams are derived from a tuple of integers, e.g. ``(seed, stage, epoch, index)``, by a
splitmix64 hash chain (``augkit._counter``): item i of epoch e gets the same stream in any
process, under any number of DataLoader workers or distributed ranks. Nothing here reads or
changes the global ``torch``, ``numpy`` or ``random`` state (a bare policy in a DataLoader
follows the seed the loader itself drew: ``process_stream``).

torch is imported by the functions that use it: the transform base imports this module, and
``import augkit`` and ``augkit list`` stay light.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import threading
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from augkit._counter import GOLDEN as _GOLDEN
from augkit._counter import M64 as _M64
from augkit._counter import MASK63 as _MASK63
from augkit._counter import Stream, chain_prefix, derive_seed, mix64
from augkit.errors import AugkitError

if TYPE_CHECKING:
    import torch

#: What a transform accepts as ``generator=``: None (fresh entropy), an int seed, a
#: ``torch.Generator`` (CPU) or a ``numpy.random.Generator``.
GeneratorLike = Any

__all__ = ["GeneratorLike", "ItemStream", "ItemStreams", "as_generator", "as_torch", "batch_stream",
           "derive_seed", "draw_seed", "item_keys", "item_prefix", "item_stream", "numpy_rng",
           "policy_root", "process_key", "process_stream", "stage_stream", "stream",
           "torch_generator", "type_seed", "uniform", "worker_and_rank"]

# Mixed into an ItemStream's seed for the torch.Generator it hands to torch-drawing code, so
# that generator's draws are unrelated to the stream's own counter draws.
_TORCH_KEY = 0x7E57AB1E5EED0001


#: The key after a call's seed that names the stream of one node or edge type of a HeteroData.
HETERO_TYPE_KEY = 0x4E7E


@functools.lru_cache(maxsize=1024)
def _name_key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def type_seed(seed: int, name: str) -> int:
    """The seed that node or edge type ``name`` (an edge type spelled ``"src__rel__dst"``)
    of a PyG ``HeteroData`` draws with in a call whose seed is ``seed``: keyed by the name,
    so adding or removing a type does not change what the other types draw."""
    return derive_seed(int(seed), HETERO_TYPE_KEY, _name_key(name))


def torch_generator(seed: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``seed``."""
    import torch

    g = torch.Generator()
    g.manual_seed(int(seed) & _MASK63)
    return g


def stream(*keys: int) -> torch.Generator:
    """The generator for a key tuple, e.g. ``stream(seed, epoch, index)``."""
    return torch_generator(derive_seed(*keys))


def stage_stream(seed: int, stage: str, epoch: int = 0, index: int = 0) -> torch.Generator:
    """The stream of a policy stage, the one place item streams are derived.

    Item ``index`` of ``epoch`` (the sample stage) or batch ``index`` (the batch stage) draws
    from ``(seed, Stream.SAMPLE or Stream.BATCH, epoch, index)``; the dataset stage runs once,
    from ``(seed, Stream.DATASET)``. ``Policy`` and ``AugmentedDataset`` both call this.
    """
    if stage == "dataset":
        return stream(seed, Stream.DATASET)
    return stream(seed, _STAGE_STREAMS[stage], epoch, index)


_STAGE_STREAMS = {"sample": Stream.SAMPLE, "batch": Stream.BATCH}


class ItemStream:
    """The draws of one policy step on one item.

    Apply decisions, container choices and seeds (:func:`uniform`, :func:`draw_seed`) come
    from splitmix64 started at ``key + position * 2**32 * GOLDEN`` (``key``: the item's chain
    state, :func:`item_prefix`): a policy makes one stream per step and item, and a
    torch.Generator for each would cost more than the step itself. A
    transform that draws with torch ops gets a torch.Generator seeded from the stream, made on
    first use (:meth:`torch`). Draws happen in a fixed order, so a step gives an item the same
    values in the sample stage and in the batch stage.
    """

    __slots__ = ("_state", "_torch", "seed")

    def __init__(self, key: int, position: int = 0) -> None:
        # splitmix64 from state key + position * 2**32 * GOLDEN: a step's draws are the Weyl
        # sequence's next 2**32 states, apart from every other step's; one mix per draw.
        self.seed = (int(key) + (int(position) << 32) * _GOLDEN) & _M64
        self._state = self.seed
        self._torch: Any = None

    def next_u64(self) -> int:
        """The next 64-bit draw: splitmix64's next output."""
        self._state = (self._state + _GOLDEN) & _M64
        return mix64(self._state)

    def torch(self) -> torch.Generator:
        """This stream's torch.Generator (one per stream, made on first use)."""
        if self._torch is None:
            self._torch = torch_generator(mix64(self.seed ^ _TORCH_KEY))
        return self._torch

    def __repr__(self) -> str:
        return f"ItemStream(seed={self.seed})"


class ItemStreams:
    """The streams of one policy step for every item of a batch (``ItemStream(keys[i],
    position)``), drawn together: :meth:`draws` advances the chosen items' splitmix64 states
    in one numpy pass. Indexing materialises every item's ItemStream at its current state
    (for a container, which draws item by item); the streams then live there."""

    def __init__(self, keys: list[int], position: int) -> None:
        offset = np.uint64(((int(position) << 32) * _GOLDEN) & _M64)
        self._start = np.asarray(keys, dtype=np.uint64) + offset
        self._state = self._start.copy()
        self._streams: list[ItemStream] | None = None

    def __len__(self) -> int:
        return len(self._start)

    def __getitem__(self, index: int) -> ItemStream:
        if self._streams is None:
            streams = []
            for start, state in zip(self._start.tolist(), self._state.tolist(), strict=True):
                stream = ItemStream.__new__(ItemStream)
                stream.seed, stream._state, stream._torch = start, state, None
                streams.append(stream)
            self._streams = streams
        return self._streams[index]

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    @property
    def vectorized(self) -> bool:
        """True until an item's stream has been taken out (then draw item by item)."""
        return self._streams is None

    def draws(self, which: np.ndarray) -> np.ndarray:
        """The next 64-bit draw of each item where ``which`` (a boolean array) is set."""
        from augkit._counter import mix64_u64

        state = self._state[which] + np.uint64(_GOLDEN)
        self._state[which] = state
        return mix64_u64(state)


def as_torch(generator: Any) -> torch.Generator:
    """The torch.Generator to hand to torch ops: an ItemStream's own, else ``generator``."""
    return generator.torch() if type(generator) is ItemStream else generator


def policy_root(seed: int) -> int:
    """The root of a seeded policy's item streams (see :func:`item_stream`)."""
    return derive_seed(seed, Stream.ITEM)


_ITEM_BEFORE: dict[tuple[int, int], int] = {}  # (root, epoch) -> chain state before the index


def item_prefix(root: int, epoch: int, index: int, view: int | None = None) -> int:
    """The key of item ``index`` of ``epoch`` (of one of its views): the chain state of
    ``(root, ITEM, epoch, index[, view])``; ``ItemStream(key, position)`` is its stream at a
    step."""
    if view is None:
        # The chain's last step by hand: the state before it, (root, ITEM, epoch), is kept
        # here (a dict lookup costs less than chain_prefix's) and only the index changes from
        # one item to the next.
        at = (int(root), int(epoch))  # plain ints: a tensor epoch would hash by identity
        before = _ITEM_BEFORE.get(at)
        if before is None:
            before = chain_prefix((root, Stream.ITEM, epoch), 5)
            if len(_ITEM_BEFORE) >= 256:
                _ITEM_BEFORE.clear()
            _ITEM_BEFORE[at] = before
        return mix64((before + _GOLDEN + (int(index) & _M64)) & _M64)
    return chain_prefix((root, Stream.ITEM, epoch, index, view), 6)


def item_keys(root: int, epoch: int, indices: list[int]) -> list[int]:
    """:func:`item_prefix` of every index of a batch, in one numpy pass."""
    from augkit._counter import mix64_u64

    base = (chain_prefix((root, Stream.ITEM, epoch), 5) + _GOLDEN) & _M64
    index = np.asarray(indices, dtype=np.int64).view(np.uint64)  # two's complement: & M64
    return mix64_u64(np.uint64(base) + index).tolist()


def item_stream(root: int, epoch: int, index: int, position: int) -> ItemStream:
    """The stream of one policy step on one item: item ``index`` of ``epoch`` at the step's
    ``position`` in the policy (the sample stage's steps first, then the batch stage's).

    The stage is not a key, so a step moved between ``sample`` and ``batch`` draws the same
    for every item; two steps draw independent streams. ``root`` is :func:`policy_root` of
    the policy's seed, or a seed drawn from the generator a call was given.
    """
    return ItemStream(item_prefix(root, epoch, index), position)


def batch_stream(root: int, epoch: int, position: int, indices: Any) -> torch.Generator:
    """The stream of a batch-only step (mixup, cutmix) at ``position``: keyed by the dataset
    indices of the batch's items, so a batch draws the same whichever worker collated it."""
    return stream(root, Stream.BATCH, epoch, position, *(int(i) for i in indices))


# The CPU torch.Generators already checked, by id: a generator's device never changes, and
# reading it builds a torch.device on every call (a pipeline call is a few microseconds).
_CPU_GENERATORS: dict[int, weakref.ref] = {}


def _remember_cpu(generator: torch.Generator) -> None:
    key = id(generator)

    def forget(ref: weakref.ref) -> None:
        if _CPU_GENERATORS.get(key) is ref:
            _CPU_GENERATORS.pop(key, None)

    _CPU_GENERATORS[key] = weakref.ref(generator, forget)


def as_generator(generator: GeneratorLike = None) -> torch.Generator:
    """Turn what the user passed into a CPU ``torch.Generator``.

    ``None`` draws a fresh seed from the operating system (not from global torch state);
    an int seeds a new generator; a numpy Generator is consumed for one seed.
    """
    if type(generator) is ItemStream:
        return generator
    if type(generator) is int:  # the common call, t(data, generator=seed): no checks to walk
        return torch_generator(generator)
    seen = _CPU_GENERATORS.get(id(generator))
    if seen is not None and seen() is generator:
        return generator
    import torch

    if isinstance(generator, torch.Generator):
        if generator.device.type != "cpu":
            raise AugkitError(
                f"generator: got a torch.Generator on {generator.device}; allowed: None, an "
                "int seed, a CPU torch.Generator or a numpy.random.Generator (augkit draws "
                "parameters on the CPU)"
            )
        _remember_cpu(generator)
        return generator
    if generator is None:
        return torch_generator(int.from_bytes(os.urandom(8), "little"))
    if isinstance(generator, np.random.Generator):
        return torch_generator(int(generator.integers(0, _MASK63)))
    if isinstance(generator, int | np.integer) and not isinstance(generator, bool):
        return torch_generator(int(generator))
    raise AugkitError(
        f"generator: got {type(generator).__name__}; allowed: None, an int seed, "
        "a CPU torch.Generator or a numpy.random.Generator"
    )


_SCRATCH = threading.local()  # 0-d tensors that draw_seed and uniform fill, one set per thread


def draw_seed(generator: torch.Generator) -> int:
    """One 63-bit integer from ``generator``: the seed of a counter-based or numpy stream."""
    if type(generator) is ItemStream:
        return generator.next_u64() & _MASK63
    # random_ on a 0-d tensor kept per thread draws what torch.randint(0, _MASK63, (1,))
    # draws (the same kernel; tested) without a new tensor per transform call.
    return _scratch("int64").random_(0, _MASK63, generator=generator).item()


def numpy_rng(generator: torch.Generator) -> np.random.Generator:
    """A numpy generator seeded from ``generator`` (for numpy backends: OpenCV, albumentations,
    imbalanced-learn)."""
    return np.random.default_rng(draw_seed(generator))


def uniform(generator: torch.Generator) -> float:
    """One uniform float in [0, 1) from ``generator``: what ``torch.rand((), dtype=float64)``
    draws (the same kernel), into a 0-d tensor kept per thread: it runs for every
    apply-probability decision, and a fresh tensor per call would cost more than the draw.
    From an :class:`ItemStream`: the top 53 bits of its next counter draw."""
    if type(generator) is ItemStream:
        return (generator.next_u64() >> 11) * 2.0**-53
    return _scratch("float64").uniform_(generator=generator).item()


def _scratch(dtype: str) -> torch.Tensor:
    """This thread's 0-d tensor of ``dtype``, made outside inference mode: one made inside it
    would refuse every in-place draw after the block ends."""
    scratch = getattr(_SCRATCH, dtype, None)
    if scratch is None:
        import torch

        with torch.inference_mode(False):
            scratch = torch.empty((), dtype=getattr(torch, dtype))
        setattr(_SCRATCH, dtype, scratch)
    return scratch


def worker_and_rank() -> tuple[int, int, int, int]:
    """(worker_id, num_workers, rank, world_size) of the calling process.

    Outside a DataLoader worker, worker_id is 0 of 1; without torch.distributed, rank 0 of 1.
    """
    worker_id, num_workers, rank, world = 0, 1, 0, 1
    try:
        import torch.utils.data

        info = torch.utils.data.get_worker_info()
        if info is not None:
            worker_id, num_workers = int(info.id), int(info.num_workers)
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            rank, world = int(dist.get_rank()), int(dist.get_world_size())
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return worker_id, num_workers, rank, world


def _loader_iteration() -> Any:
    """The single-process DataLoader iteration (``num_workers=0``) whose fetch is running this
    call, found on the call stack; None outside one."""
    dataloader = sys.modules.get("torch.utils.data.dataloader")
    fetch = getattr(getattr(dataloader, "_SingleProcessDataLoaderIter", None), "_next_data", None)
    code = getattr(fetch, "__code__", None)
    if code is None:
        return None
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is code:
            return frame.f_locals.get("self")
        frame = frame.f_back
    return None


def _worker_seed() -> int:
    """The seed torch gives this DataLoader worker (``base_seed + worker_id``); in the main
    process during a ``num_workers=0`` iteration, that iteration's ``base_seed`` (what worker 0
    would get); 0 outside a loader."""
    import torch.utils.data

    info = torch.utils.data.get_worker_info()
    if info is not None:
        return int(info.seed)
    iteration = _loader_iteration()
    return int(getattr(iteration, "_base_seed", 0)) if iteration is not None else 0


def process_key() -> tuple:
    """What ``process_stream`` depends on besides the seed: the process, its DataLoader worker
    and distributed rank, and the ``num_workers=0`` loader iteration running (a new iteration,
    even with the same base seed, is a new key). A caller keeps one stream per key."""
    iteration = _loader_iteration()
    marker = None if iteration is None else weakref.ref(iteration)
    return (os.getpid(), *worker_and_rank(), marker)


def process_stream(seed: int) -> torch.Generator:
    """A generator private to this (rank, DataLoader worker): used when a policy is called as a
    bare ``transform=`` without a generator, so no two workers repeat each other's draws.

    It is ``stream(seed, PROCESS, rank, worker_id, worker_seed)``, where ``worker_seed``
    follows the DataLoader the same way with and without workers:

    - in a worker, the loader's per-worker seed ``base_seed + worker_id``;
    - in the main process while a ``num_workers=0`` loader fetches, that iteration's
      ``base_seed`` (so ``num_workers=0`` draws what ``num_workers=1`` draws);
    - outside a loader, 0.

    ``base_seed`` is what the loader itself draws at the start of every epoch, from its
    ``generator=`` or else from the global torch RNG: a loader seeded either way (or after
    ``torch.manual_seed``) replays, two epochs differ, and augkit draws nothing from the
    global RNG itself. Callers make a new stream whenever ``process_key()`` changes.
    """
    worker_id, _, rank, _ = worker_and_rank()
    return stream(seed, Stream.PROCESS, rank, worker_id, _worker_seed())
