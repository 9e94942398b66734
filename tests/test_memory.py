"""Recycled output buffers (augkit._memory): a buffer is handed out again only when nothing
the caller holds can see it, and the recycling is real (an idle buffer is reused)."""

import gc
import threading

import numpy as np
import pytest
import torch

from augkit import _memory as M

BIG = M.HUGE_OUTPUT_BYTES // 4 + 1000  # float32 elements just above the threshold


@pytest.fixture(autouse=True)
def _empty_pool():
    M.release_buffers()
    yield
    M.release_buffers()


def _ptr(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def test_an_idle_buffer_is_reused_and_a_held_one_never_is():
    a = M.empty_array((BIG,), np.float32)
    first = _ptr(a)
    b = M.empty_array((BIG,), np.float32)  # a is held: b must be other memory
    assert _ptr(b) != first
    a[:] = 1.0
    b[:] = 2.0
    assert (a == 1.0).all()
    del a
    gc.collect()
    c = M.empty_array((BIG - 7,), np.float32)  # same bucket, a little smaller
    assert _ptr(c) == first
    assert c.shape == (BIG - 7,) and c.dtype == np.float32 and c.flags.c_contiguous


def test_views_tensors_and_storages_keep_a_buffer_in_use():
    holders = []
    a = M.empty_array((BIG,), np.float32)
    holders.append(a[10:20])  # a numpy view
    t = torch.from_numpy(M.empty_array((BIG,), np.float32))
    holders.append(t[5:])  # a tensor view of a tensor made from the array
    u = torch.from_numpy(M.empty_array((BIG,), np.float32))
    storage = u.untyped_storage()  # only the storage
    holders.append(storage)
    ptrs = {_ptr(a), t.data_ptr(), u.data_ptr()}
    del a, t, u
    gc.collect()
    for _ in range(3):
        fresh = M.empty_array((BIG,), np.float32)
        assert _ptr(fresh) not in ptrs
        holders.append(fresh)


def test_recycled_outputs_of_transforms_do_not_alias_held_results():
    """Two erasing calls on a large batch: the first result, still held, is not overwritten
    by the second; dropping it lets the third call reuse its memory."""
    import augkit

    x = torch.rand(48, 3, 128, 128, generator=torch.Generator().manual_seed(0))  # ~9.4 MB
    t = augkit.make("random_erasing")
    first = t(x, generator=1)
    kept = first.clone()
    second = t(x, generator=2)
    assert first.data_ptr() != second.data_ptr()
    assert torch.equal(first, kept)
    ptr = first.data_ptr()
    del first
    third = t(x, generator=3)
    assert third.data_ptr() == ptr
    assert torch.equal(third, t(x, generator=3).clone())


@pytest.mark.parametrize("name", ["rotation_pretext", "jigsaw", "patch_mask"])
def test_recycled_pretext_views_do_not_alias_held_results(name):
    """The pretext views write large batches into recycled memory too: a held view is never
    handed out again, and dropping it frees its memory for the next call."""
    import augkit

    x = torch.rand(48, 3, 128, 128, generator=torch.Generator().manual_seed(0))  # ~9.4 MB
    t = augkit.make(name)
    first = t(x, generator=1)[0]
    kept = first.clone()
    second = t(x, generator=2)[0]
    assert first.data_ptr() != second.data_ptr()
    assert torch.equal(first, kept)
    ptr = first.data_ptr()
    del first
    gc.collect()
    assert t(x, generator=3)[0].data_ptr() == ptr


def test_empty_output_like_takes_another_shape():
    t = torch.zeros(4, dtype=torch.float64)
    small = M.empty_output_like(t, (2, 3))
    big = M.empty_output_like(t, (BIG,))
    assert small.shape == (2, 3) and small.dtype == torch.float64
    assert big.shape == (BIG,) and big.dtype == torch.float64 and big.is_contiguous()
    ptr = big.data_ptr()
    del big
    gc.collect()
    assert M.empty_output_like(t, (BIG,)).data_ptr() == ptr  # recycled: from the pool


def test_pool_limit_and_switch(monkeypatch):
    monkeypatch.setenv("AUGKIT_OUTPUT_POOL_MB", "0")
    a = M.empty_array((BIG,), np.float32)
    ptr = _ptr(a)
    del a
    b = M.empty_array((BIG,), np.float32)
    # Not pooled: whatever malloc returns; the pool holds nothing.
    assert M.release_buffers() == 0 and b.base is None
    monkeypatch.setenv("AUGKIT_OUTPUT_POOL_MB", "1024")
    c = M.empty_array((BIG,), np.float32)
    del c
    assert M.release_buffers() >= BIG * 4
    del ptr


def test_threads_never_share_a_buffer():
    seen: list[int] = []
    keep: list[np.ndarray] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(20):
            a = M.empty_array((BIG,), np.float32)
            with lock:
                seen.append(_ptr(a))
                keep.append(a)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(set(seen)) == len(seen) == 80
