"""Streams derived from (seed, epoch, index, ...) are stable and independent, and nothing reads
global RNG state."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from augkit._counter import Stream
from augkit.errors import AugkitError
from augkit.random import as_generator, derive_seed, draw_seed, item_stream, stream, uniform

from .conftest import AddNoise
from .loading_fixtures import table_policy


def test_derive_seed_is_stable_and_distinct():
    assert derive_seed(0, 1, 2) == derive_seed(0, 1, 2)
    seeds = {derive_seed(0, e, i) for e in range(5) for i in range(200)}
    assert len(seeds) == 1000
    assert 0 <= derive_seed(2**70, 3) < 2**63


def test_derive_seed_equals_the_plain_chain():
    # derive_seed caches the chain up to the last key; every seed must stay the plain
    # splitmix64 chain over (count, *keys), whatever came before in the cache.
    m64 = (1 << 64) - 1

    def mix(z: int) -> int:
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m64
        return z ^ (z >> 31)

    def plain(*keys: int) -> int:
        h = mix(len(keys) + 0x243F6A8885A308D3)
        for k in keys:
            h = mix((h + 0x9E3779B97F4A7C15 + (int(k) & m64)) & m64)
        return h & ((1 << 63) - 1)

    rng = random.Random(3)
    for _ in range(3000):
        keys = tuple(rng.choice([rng.randint(-2**70, 2**70), rng.randint(0, 4),
                                 np.int64(rng.randint(-9, 9))])
                     for _ in range(rng.randint(0, 5)))
        assert derive_seed(*keys) == plain(*keys), keys


def test_global_state_is_neither_read_nor_changed():
    x = torch.zeros(16)
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    before = (torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate())
    a = AddNoise()(x, generator=stream(1, 0, 5))
    torch.manual_seed(123)  # changing global state must not change augkit's output
    b = AddNoise()(x, generator=stream(1, 0, 5))
    assert torch.equal(a, b)
    torch.manual_seed(0)
    assert torch.equal(torch.get_rng_state(), before[0])
    assert np.array_equal(np.random.get_state()[1], before[1])


def test_as_generator_forms():
    g = torch.Generator().manual_seed(1)
    assert as_generator(g) is g
    a = torch.rand(3, generator=as_generator(5))
    assert torch.equal(a, torch.rand(3, generator=as_generator(5)))
    rng = np.random.default_rng(0)
    assert isinstance(as_generator(rng), torch.Generator)
    with pytest.raises(AugkitError, match="allowed"):
        as_generator("seed")


def test_as_generator_remembers_only_live_cpu_generators():
    """The checked CPU generators are remembered by id: a generator is accepted again
    without its device read, and once it is collected its entry goes (an object that
    later gets the same id is checked afresh)."""
    import gc

    from augkit import random as R

    g = torch.Generator().manual_seed(3)
    assert as_generator(g) is g and as_generator(g) is g
    key = id(g)
    assert R._CPU_GENERATORS[key]() is g
    del g
    gc.collect()
    assert key not in R._CPU_GENERATORS


def test_uniform_is_what_rand_draws_in_every_thread():
    # uniform and draw_seed fill per-thread 0-d scratch tensors for speed; the draws (and so
    # every apply decision and seed) must stay what torch.rand((), dtype=float64) and
    # torch.randint give, interleaved, in any thread at once.
    from concurrent.futures import ThreadPoolExecutor

    def draws(seed: int) -> tuple[list[float], list[float], bool]:
        g, ref = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
        got = [uniform(g) if i % 3 else draw_seed(g) for i in range(2000)]
        want = [float(torch.rand((), generator=ref, dtype=torch.float64)) if i % 3
                else int(torch.randint(0, 2**63 - 1, (1,), generator=ref)) for i in range(2000)]
        return got, want, torch.equal(g.get_state(), ref.get_state())

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(draws, range(8)))
    for got, want, same_state in results:
        assert got == want and same_state
    assert len({r[0][0] for r in results}) == 8


def test_draw_seed_is_what_randint_draws():
    # draw_seed uses random_ on a 0-d tensor for speed; the stream of seeds (and so every
    # seeded output) must stay what torch.randint(0, 2**63 - 1) gives.
    for seed in (0, 1, 12345, 2**62 + 7):
        g, ref = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
        got = [draw_seed(g) for _ in range(20)]
        want = [int(torch.randint(0, 2**63 - 1, (1,), generator=ref)) for _ in range(20)]
        assert got == want
        assert torch.equal(g.get_state(), ref.get_state())


class _BareRows(torch.utils.data.Dataset):
    """Each item is the policy applied as a bare transform (no index, no generator)."""

    def __init__(self, n: int = 6) -> None:
        self.policy, self.n = table_policy(), n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        return self.policy(torch.zeros(3))


def _epochs(num_workers: int, generator=None, epochs: int = 2) -> list[torch.Tensor]:
    """Every epoch's rows, from one loader over a fresh dataset."""
    loader = torch.utils.data.DataLoader(_BareRows(), batch_size=2, num_workers=num_workers,
                                         generator=generator)
    return [torch.cat(list(loader)) for _ in range(epochs)]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("num_workers", [0, 2])
def test_seeded_loader_generator_steers_a_bare_policy(num_workers):
    first = _epochs(num_workers, torch.Generator().manual_seed(0))
    assert _same(first, _epochs(num_workers, torch.Generator().manual_seed(0)))  # replays
    assert not torch.equal(first[0], first[1])  # two epochs differ
    assert not _same(first, _epochs(num_workers, torch.Generator().manual_seed(1)))


@pytest.mark.parametrize("num_workers", [0, 2])
def test_torch_manual_seed_steers_a_bare_policy(num_workers):
    torch.manual_seed(0)
    first = _epochs(num_workers)
    torch.manual_seed(0)
    assert _same(first, _epochs(num_workers))
    assert not torch.equal(first[0], first[1])
    torch.manual_seed(1)
    assert not _same(first, _epochs(num_workers))


def test_no_workers_draw_what_one_worker_draws():
    assert _same(_epochs(0, torch.Generator().manual_seed(5)),
                 _epochs(1, torch.Generator().manual_seed(5)))


def test_outside_a_loader_the_process_stream_is_the_seed_alone():
    torch.manual_seed(3)
    before = torch.get_rng_state()
    policy = table_policy()
    got = [policy(torch.zeros(3)) for _ in range(3)]
    # Each call draws its root from the process stream; the step draws from item 0's stream.
    g = stream(policy.seed, Stream.PROCESS, 0, 0, 0)
    step = table_policy().sample[0]
    want = [step(torch.zeros(3), generator=item_stream(draw_seed(g), 0, 0, 0)) for _ in got]
    assert all(torch.equal(x, w) for x, w in zip(got, want, strict=True))
    assert not torch.equal(got[0], got[1])
    assert torch.equal(torch.get_rng_state(), before)  # augkit drew nothing from torch's RNG


def test_per_thread_draws_work_after_a_first_call_in_inference_mode():
    import threading

    from augkit.random import draw_seed, uniform

    results = []

    def first_call_in_inference_mode() -> None:  # a fresh thread: fresh per-thread tensors
        g = torch.Generator().manual_seed(0)
        with torch.inference_mode():
            uniform(g), draw_seed(g)
        results.append((uniform(g), draw_seed(g)))

    worker = threading.Thread(target=first_call_in_inference_mode)
    worker.start()
    worker.join()
    assert len(results) == 1


def test_item_stream_draws_from_its_counter_and_makes_a_torch_generator_on_first_use():
    """An ItemStream's uniform and seed draws are splitmix64 from key + position * 2**32 *
    GOLDEN: pinned here, uniform in [0, 1) (KS test); its torch.Generator is made once, from
    an unrelated seed, and is what torch-drawing code gets."""
    from scipy import stats

    from augkit._counter import GOLDEN, M64, mix64
    from augkit.random import ItemStream, as_torch

    s = ItemStream(12345, 3)
    start = 12345 + 3 * 2**32 * GOLDEN
    assert draw_seed(s) == mix64((start + GOLDEN) & M64) & ((1 << 63) - 1)
    assert uniform(s) == (mix64((start + 2 * GOLDEN) & M64) >> 11) * 2.0**-53
    assert as_torch(s) is s.torch() is s.torch() and isinstance(s.torch(), torch.Generator)
    assert as_generator(s) is s
    draws = [uniform(ItemStream(7)) for _ in range(1)] + [uniform(s) for _ in range(4000)]
    assert all(0.0 <= u < 1.0 for u in draws)
    assert stats.kstest(draws, "uniform").pvalue > 1e-3
    a, b = ItemStream(1), ItemStream(1)
    assert [uniform(a) for _ in range(3)] == [uniform(b) for _ in range(3)]
    assert torch.equal(torch.rand(4, generator=a.torch()), torch.rand(4, generator=b.torch()))
    assert not torch.equal(torch.rand(4, generator=ItemStream(2).torch()),
                           torch.rand(4, generator=ItemStream(1).torch()))


def test_item_key_is_the_chain_state_of_root_item_epoch_index():
    from augkit._counter import chain_prefix
    from augkit.random import item_keys, item_prefix

    for root, epoch, index in ((0, 0, 0), (2**62 + 5, 3, 10**12), (7, 1, -1)):
        want = chain_prefix((root, Stream.ITEM, epoch, index), 5)
        assert item_prefix(root, epoch, index) == want
    assert item_prefix(1, 0, 2, view=1) == chain_prefix((1, Stream.ITEM, 0, 2, 1), 6)
    indices = [0, 1, 10**12, -1, 2**62]
    assert item_keys(9, 2, indices) == [item_prefix(9, 2, i) for i in indices]
