"""The soak (benchmarks/soak.py): the flatness rule, which a leaking call must fail."""

from __future__ import annotations

import pytest

from augkit.benchmarks import harness, report, soak, timing
from augkit.benchmarks.case import Case, Soak

MIB = 1 << 20


def _soaked(keep: bool, chunk: int = 32 << 10) -> dict:
    """A call allocating ``chunk`` bytes (written, so resident) that it keeps when ``keep``,
    soaked the way the suite's cases are."""
    kept: list[bytes] = []

    def call(state: None) -> int:
        block = b"\x01" * chunk
        if keep:
            kept.append(block)
        return len(block)

    case = Case(suite="test", name="leak" if keep else "no-leak", transforms=(), size=1000,
                size_unit="calls", items=1, unit="calls/s", setup=lambda: None, run=call,
                soak=Soak(calls=1000, samples=20))
    record = harness.run_case(case, "test", timing.Settings.for_mode(True))
    kept.clear()
    return record


def test_a_leaking_call_is_growing_and_the_same_call_without_the_leak_is_flat():
    leaking = _soaked(keep=True)["soak"]
    # 500 calls of the second half keep 16 MiB between them.
    assert leaking["verdict"] == "growing", leaking
    assert leaking["growth_bytes_per_1k_calls"] > 16 * MIB
    assert leaking["rss_end_bytes"] - leaking["rss_warm_bytes"] > 16 * MIB
    assert _soaked(keep=False)["soak"]["verdict"] == "flat"
    page = report.soak_table({"cases": [_soaked(keep=True)]})
    assert "GROWING" in page[-1]


def test_the_rule_lets_a_one_off_step_pass_and_steady_growth_fail():
    calls, step = 100_000, 3 * MIB
    for at in (60_000, 75_500, 90_000):  # the middle of the second half is the worst place
        stepped = [(x, 500 * MIB + (step if x > at else 0)) for x in range(0, calls + 1, 1000)]
        per_1k, rise, word = soak.verdict(stepped, calls, 4 * MIB)
        assert word == "flat" and 0 <= rise <= 1.1 * step, (at, rise)
    # 100 bytes a call: 5 MB over the second half.
    leak = [(x, 500 * MIB + 100 * x) for x in range(0, calls + 1, 1000)]
    per_1k, rise, word = soak.verdict(leak, calls, 4 * MIB)
    assert word == "growing" and per_1k == pytest.approx(100_000)
    assert rise == pytest.approx(5_000_000)
