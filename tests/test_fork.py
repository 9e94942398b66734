"""A child forked while another thread is inside augkit's shared state works: the recycled
output allocator and the thread pool start afresh in the child. Each child runs under a
deadline and is killed when it passes it, so a regression fails instead of hanging."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

from augkit import _memory, _threads

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

DEADLINE_S = 60.0  # generous: the child only allocates, but the machine may be loaded


def _run_in_child(work) -> int | None:
    """Fork; the child runs ``work()`` and exits 0 (1 on an exception). Returns the child's
    exit status, or None when it had not finished by the deadline (it is then killed)."""
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            work()
            code = 0
        finally:
            os._exit(code)
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


def test_child_forked_while_the_allocator_lock_is_held_can_allocate(monkeypatch):
    monkeypatch.setenv("AUGKIT_OUTPUT_POOL_MB", "64")
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with _memory._LOCK:
            holding.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)

        def allocate() -> None:
            out = _memory.empty_array((_memory.HUGE_OUTPUT_BYTES // 8 + 1,), np.float64)
            out.fill(1.0)
            assert _memory.release_buffers() == 0  # the child's pool holds only its own

        status = _run_in_child(allocate)
    finally:
        release.set()
        holder.join()
    assert status is not None, "the forked child blocked on the allocator's lock"
    assert status == 0


def test_child_forked_after_the_thread_pool_started_gets_its_own(monkeypatch):
    monkeypatch.setattr(_threads, "MIN_PARALLEL_ELEMENTS", 1)
    monkeypatch.setattr(_threads.torch, "get_num_threads", lambda: 2)
    seen: list[int] = []
    _threads.parallel_ranges(lambda lo, hi: seen.append(hi - lo), 8, 1)
    assert sorted(seen) == [4, 4] and _threads._POOL is not None

    def split() -> None:
        got: list[tuple[int, int]] = []
        _threads.parallel_ranges(lambda lo, hi: got.append((lo, hi)), 8, 1)
        assert sorted(got) == [(0, 4), (4, 8)]

    assert _run_in_child(split) == 0
