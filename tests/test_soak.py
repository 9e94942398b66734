"""The soak (benchmarks/soak.py, suite benchmarks/suites/soak.py): the quick soak's records
and page, and the flatness rule, which a leaking call must fail."""

from __future__ import annotations

import contextlib
import io
import json
import mmap

import pytest

from augkit.benchmarks import cli, harness, report, soak, timing
from augkit.benchmarks.case import Case, Soak
from augkit.benchmarks.validate import validate

MIB = 1 << 20


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """`augkit bench --suite soak --quick`, once for this module."""
    out = tmp_path_factory.mktemp("soak") / "soak.json"
    page = io.StringIO()
    with contextlib.redirect_stdout(page), contextlib.redirect_stderr(io.StringIO()):
        rc = cli.main(["--suite", "soak", "--quick", "--no-progress", "--out", str(out)])
    doc = json.loads(out.read_text())
    return {"rc": rc, "doc": doc, "page": page.getvalue(),
            "cases": {c["name"]: c for c in doc["cases"]}}


def test_quick_soak_is_valid_and_every_case_is_flat(quick):
    assert quick["rc"] == 0 and validate(quick["doc"]) == []
    assert set(quick["cases"]) == {"graph_policy", "image_policy", "image_policy/recycled"}
    for case in quick["cases"].values():
        s = case["soak"]
        assert case["status"] == "ok" and s is not None, case["reason"]
        assert s["verdict"] == "flat", s
        assert s["calls"] == case["size"] and s["calls_per_s"] > 0
        assert s["warmup_calls"] >= 1 and [0, 0] < s["samples"][0][:2]
        assert s["samples"][-1][0] == s["calls"] and len(s["samples"]) == 101
        rss = [r for _, r, _ in s["samples"]]
        assert (s["rss_warm_bytes"], s["rss_end_bytes"], s["rss_max_bytes"]) == (
            rss[0], rss[-1], max(rss))
        # Each stretch between two samples is one "round" of augkit's result.
        augkit = case["results"][0]
        assert augkit["status"] == "ok" and augkit["runs"] == len(s["samples"]) - 1


def test_large_outputs_go_through_the_recycled_buffers(quick):
    s = quick["cases"]["image_policy/recycled"]["soak"]
    assert s["pool_end_bytes"] >= 8 * MIB
    # Recycled, not piled up: the same buffers from the first stretch to the last.
    assert {p for _, _, p in s["samples"]} == {s["pool_end_bytes"]}
    assert quick["cases"]["image_policy"]["soak"]["pool_max_bytes"] == 0


def test_page_has_the_soak_table_and_no_soak_row_among_the_ratios(quick):
    page = quick["page"]
    assert "## Soak" in page and "| soak | graph_policy | 2k |" in page
    assert page.count("flat (rise") == 3
    results = page.split("## Results")[1].split("## Soak")[0]
    assert "graph_policy" not in results


def _soaked(keep: bool, chunk: int = 32 << 10) -> dict:
    """A call mapping ``chunk`` fresh bytes and writing them (resident), which it keeps when
    ``keep``, soaked the way the suite's cases are. Mapped, not malloc'ed: the heap may hold
    what earlier tests freed, and a leak from the heap would fill that before RSS moved."""
    kept: list[mmap.mmap] = []

    def call(state: None) -> int:
        block = mmap.mmap(-1, chunk)
        block.write(b"\x01" * chunk)
        if keep:
            kept.append(block)
        return chunk

    case = Case(suite="test", name="leak" if keep else "no-leak", transforms=(), size=1000,
                size_unit="calls", items=1, unit="calls/s", setup=lambda: None, run=call,
                soak=Soak(calls=1000, samples=20))
    record = harness.run_case(case, "test", timing.Settings.for_mode(True))
    for block in kept:
        block.close()
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


def test_a_soak_record_with_an_unknown_verdict_does_not_validate(quick):
    doc = json.loads(json.dumps(quick["doc"]))
    doc["cases"][0]["soak"]["verdict"] = "mostly flat"
    del doc["cases"][1]["soak"]["samples"]
    problems = validate(doc)
    assert any("verdict" in p for p in problems) and any("samples" in p for p in problems)
