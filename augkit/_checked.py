"""One input check per policy call.

A policy call runs its steps one after the other on one item. The first step checks the input
(a graph's structure, say); what a step returns was built by augkit from an input it checked,
and nothing outside the call has held it, so the next step may take it as checked instead of
checking it again. Only the latest such object is remembered (holding every step's output
would keep them all alive), and only while a call runs: after it, the user owns the output
and may change it. A transform called by user code inside a step starts afresh
(:func:`outside_calls`), so what that code builds or changes is checked again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_OUTSIDE = object()  # no policy call running on this thread: nothing is taken as checked
_NOTHING = object()  # a call running, nothing checked yet


class _Latest(threading.local):
    value: Any = _OUTSIDE


_latest = _Latest()


def begin_call() -> Any:
    """Start a call on this thread; returns what :func:`end_call` restores."""
    before = _latest.value
    _latest.value = _NOTHING
    return before


def end_call(before: Any) -> None:
    _latest.value = before


def is_checked(data: Any) -> bool:
    """Whether ``data`` is the object the running call last checked or built."""
    return _latest.value is data


def mark_checked(data: Any) -> None:
    """Within a call, ``data`` is the checked object the next step gets (no-op outside)."""
    if _latest.value is not _OUTSIDE:
        _latest.value = data


def in_call() -> bool:
    """Whether a policy call is running on this thread."""
    return _latest.value is not _OUTSIDE


def outside_calls(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` with no call running (user code inside a step calling a transform)."""
    before = _latest.value
    _latest.value = _OUTSIDE
    try:
        return fn(*args)
    finally:
        _latest.value = before
