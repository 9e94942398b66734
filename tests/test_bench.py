"""`augkit bench`: the quick run of every suite, the result format, and how the harness treats
missing, failing and sweeping cases (through a fake suite module). No timing is asserted."""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import json
import statistics
import textwrap

import pytest
import torch

from augkit import registry
from augkit.benchmarks import cli, discovery, report, sweeps, timing
from augkit.benchmarks.validate import validate

CONTAINERS = {"compose", "one_of", "some_of", "random_apply", "views"}
MISSING = "augkit_no_such_module_xyz"


def _main(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(args)
    return rc, out.getvalue(), err.getvalue()


# ---- the real quick run ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """`augkit bench --quick` over every suite, once for this module."""
    d = tmp_path_factory.mktemp("bench")
    paths = {"json": d / "r.json", "md": d / "r.md", "png": d / "r.png"}
    rc, out, err = _main(["--quick", "--out", str(paths["json"]), "--markdown", str(paths["md"]),
                          "--plot", str(paths["png"])])
    return {"rc": rc, "stdout": out, "stderr": err, "doc": json.loads(paths["json"].read_text()),
            **paths}


def test_quick_run_validates_against_the_documented_schema(quick):
    assert validate(quick["doc"]) == []
    assert quick["doc"]["quick"] is True


def test_quick_run_has_no_errors(quick):
    # Suite modules that fail to import and contenders that raise are reported, never hidden.
    assert report.problems(quick["doc"]) == [], quick["stderr"][-2000:]
    assert quick["rc"] == 0


def test_every_registered_transform_appears_in_a_case(quick):
    # augkit's own transforms (a third-party plugin installed by another test is not ours to
    # benchmark); containers are covered by the pipeline suite's compose cases.
    ours = {n for n, e in registry.entries().items() if e.package == "augkit"} - CONTAINERS
    covered = {t for case in quick["doc"]["cases"] for t in case["transforms"]}
    missing = sorted(ours - covered)
    assert not missing, f"no benchmark case lists these registered transforms: {missing}"
    assert "compose" in covered


def test_quick_run_times_every_contender_at_least_five_rounds(quick):
    ok = [r for c in quick["doc"]["cases"] for r in c["results"] if r["status"] == "ok"]
    assert ok
    for res in ok:
        assert res["runs"] >= 5 and len(res["times_s"]) == res["runs"]
        assert res["median_s"] == pytest.approx(statistics.median(res["times_s"]))
        assert res["memory"] is not None and res["memory"]["peak_bytes"] is not None


def test_quick_run_prints_the_table_and_writes_markdown_and_plot(quick):
    page = quick["md"].read_text()
    for text in ("speed ratio augkit÷anchor", "anchor time / augkit time", "Machine:",
                 "Versions:", "torch 2.", "augkit bench --quick", "| pipeline | compose/noop |"):
        assert text in page
    assert "| pipeline | compose/noop |" in quick["stdout"]
    assert quick["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for suite in quick["doc"]["suites"]:  # per-suite elapsed time goes to stderr too
        assert f"{suite['module']} " in quick["stderr"]


# ---- a fake suite: skips, errors, sweeps, floors, memory, interleaving -----------------------

FAKE = textwrap.dedent(f'''
    import numpy as np
    import torch
    from augkit.benchmarks.case import Anchor, Case
    from augkit.benchmarks.floor import copy_floor

    SUITE = "fake"
    LOG = []

    def boom(state):
        raise RuntimeError("boom from the anchor")

    def broken_setup():
        raise ValueError("no data here")

    def logged(tag):
        def run(state):
            LOG.append(tag)
            return state
        return run

    def cases(quick, device):
        for n in (1000, 4000):
            yield Case(
                suite=SUITE, name="double", transforms=("fake.double",), size=n,
                size_unit="rows", items=n, unit="rows/s",
                setup=lambda n=n: np.arange(n, dtype=np.float64),
                run=lambda x: x * 2.0,
                anchors=[
                    Anchor("not installed", lambda x: x, requires=("{MISSING}",)),
                    Anchor("raises", boom),
                    Anchor("numpy add", lambda x: x + x, goal_ratio=1e-9),
                ],
                floor=copy_floor(), goal="as fast as numpy")
        yield Case(suite=SUITE, name="needs-missing", transforms=(), size=1, size_unit="rows",
                   items=1, unit="rows/s", setup=lambda: 0, run=lambda s: s,
                   requires=("{MISSING}",))
        yield Case(suite=SUITE, name="broken-setup", transforms=(), size=1, size_unit="rows",
                   items=1, unit="rows/s", setup=broken_setup, run=lambda s: s)
        yield Case(suite=SUITE, name="order", transforms=(), size=1, size_unit="calls",
                   items=1, unit="calls/s", setup=lambda: None, run=logged("A"),
                   anchors=[Anchor("b", logged("B"))])
        yield Case(suite=SUITE, name="on-gpu", transforms=(), size=1 << 16, size_unit="floats",
                   items=1 << 16, unit="floats/s", device="cuda",
                   setup=lambda: torch.ones(1 << 16, device="cuda"), run=lambda t: t * 2)
''')


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    d = tmp_path_factory.mktemp("fake_suite")
    (d / "augkit_fake_suite.py").write_text(FAKE)
    (d / "augkit_broken_suite.py").write_text("raise ImportError('plugin not finished')\n")
    out = d / "fake.json"
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(d))
        rc, stdout, stderr = _main([
            "--quick", "--no-progress", "--suite", "fake", "--out", str(out),
            "--suite-module", "augkit_fake_suite", "--suite-module", "augkit_broken_suite",
        ])
        import augkit_fake_suite

        log = list(augkit_fake_suite.LOG)
    doc = json.loads(out.read_text())
    return {"rc": rc, "stdout": stdout, "stderr": stderr, "doc": doc, "log": log, "dir": d,
            "cases": {(c["name"], c["size"]): c for c in doc["cases"]}}


def _result(case, label):
    return next(r for r in case["results"] if r["label"] == label)


def test_fake_run_is_valid_and_exits_1_because_of_errors(fake):
    assert validate(fake["doc"]) == []
    assert fake["rc"] == 1
    assert "error" in fake["stderr"]


def test_missing_anchor_is_skipped_and_raising_anchor_is_an_error(fake):
    case = fake["cases"][("double", 4000)]
    assert case["status"] == "ok"
    missing = _result(case, "not installed")
    assert missing["status"] == "skipped" and MISSING in missing["reason"]
    assert missing["runs"] == 0 and missing["speedup"] is None
    failing = _result(case, "raises")
    assert failing["status"] == "error" and "boom from the anchor" in failing["reason"]
    assert _result(case, "numpy add")["status"] == "ok"


def test_ratio_and_floor_directions(fake):
    case = fake["cases"][("double", 4000)]
    mine, anchor = case["results"][0], _result(case, "numpy add")
    assert mine["role"] == "augkit"
    assert anchor["speedup"] == pytest.approx(anchor["median_s"] / mine["median_s"])
    assert anchor["goal_met"] is True and case["goal"] == "as fast as numpy"
    floor = next(r for r in case["results"] if r["role"] == "floor")
    assert case["floor_multiple"] == pytest.approx(mine["median_s"] / floor["median_s"])
    assert mine["throughput"] == pytest.approx(4000 / mine["median_s"])


def test_case_needing_a_missing_module_is_skipped_and_setup_errors_reported(fake):
    skipped = fake["cases"][("needs-missing", 1)]
    assert skipped["status"] == "skipped" and MISSING in skipped["reason"]
    broken = fake["cases"][("broken-setup", 1)]
    assert broken["status"] == "error" and "no data here" in broken["reason"]


def test_module_that_fails_to_import_is_reported_and_the_run_goes_on(fake):
    suites = {s["module"]: s for s in fake["doc"]["suites"]}
    assert suites["augkit_broken_suite"]["status"] == "error"
    assert "plugin not finished" in suites["augkit_broken_suite"]["error"]
    assert suites["augkit_fake_suite"]["status"] == "ok"
    assert {c["suite"] for c in fake["doc"]["cases"]} == {"fake"}  # --suite selected
    assert "augkit_broken_suite" in fake["stdout"]  # named in the printed page


def test_size_sweep_gives_a_slope_per_contender(fake):
    sweep = next(s for s in fake["doc"]["sweeps"] if s["name"] == "double")
    assert sweep["sizes"] == [1000, 4000]
    labels = {s["label"] for s in sweep["slopes"]}
    assert {"augkit", "numpy add"} <= labels
    assert "raises" not in labels and "not installed" not in labels


def test_contenders_are_interleaved(fake):
    # Collapse each measurement's repeated calls: the rounds must alternate A B A B ...
    runs = [t for i, t in enumerate(fake["log"]) if i == 0 or fake["log"][i - 1] != t]
    assert "ABABABABAB" in "".join(runs)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_round_orders_put_every_contender_after_every_other_equally(k):
    # A fixed order let one contender always run on what its predecessor left in the caches.
    live = [f"c{i}" for i in range(k)]
    period = max(1, k - 1)
    flat = [c for r in range(3 * period) for c in timing.round_order(live, r)]
    assert all(sorted(flat[i * k:(i + 1) * k]) == live for i in range(3 * period))
    follows = {}
    for before, after in zip(flat, flat[1:] + flat[:1], strict=True):
        follows[(before, after)] = follows.get((before, after), 0) + 1
    if k > 1:
        assert set(follows) == {(a, b) for a in live for b in live if a != b}
        assert set(follows.values()) == {3}


def test_peak_memory_sees_the_output_array(fake):
    mine = fake["cases"][("double", 4000)]["results"][0]
    assert mine["memory"]["method"].startswith("max(tracemalloc")
    assert mine["memory"]["peak_bytes"] >= 4000 * 8  # x * 2.0 allocates a new float64 array


def test_cuda_case(fake):
    case = fake["cases"][("on-gpu", 1 << 16)]
    if not torch.cuda.is_available():
        assert case["status"] == "skipped" and case["reason"] == "no CUDA device"
        return
    mine = case["results"][0]
    assert case["status"] == "ok"
    assert mine["memory"]["method"] == "cuda_max_memory_allocated"
    assert mine["memory"]["peak_bytes"] >= (1 << 16) * 4


def test_unknown_suite_is_a_usage_error():
    rc, _, err = _main(["--quick", "--no-progress", "--suite", "no-such-suite"])
    assert rc == 2 and "no-such-suite" in err and "pipeline" in err


# ---- the validator and the slope -------------------------------------------------------------


def test_validator_rejects_broken_documents(fake):
    doc = copy.deepcopy(fake["doc"])
    del doc["machine"]
    doc["cases"][0]["results"][0]["status"] = "fine"
    doc["cases"][0]["size"] = "big"
    doc["surprise"] = 1
    errors = "\n".join(validate(doc))
    assert "missing required key 'machine'" in errors
    assert "cases[0].results[0].status" in errors
    assert "cases[0].size" in errors
    assert "unexpected key 'surprise'" in errors


def test_machine_line_names_the_cpu_the_kernels_were_built_for(fake):
    """The page names LLVM's host CPU and the widest vector extension (two VMs that both
    report "AMD EPYC" timed the same kernels ~1.6-4x apart); result files written before have
    neither and still validate and render."""
    from augkit.benchmarks.report import header_lines

    doc = copy.deepcopy(fake["doc"])
    m = doc["machine"]
    assert "cpu_arch" in m and "simd" in m
    m["cpu_arch"], m["simd"] = "znver3", "avx2"
    line = next(x for x in header_lines(doc) if x.startswith("- Machine:"))
    assert line.startswith(f"- Machine: {m['cpu']} (znver3, avx2), ")
    del m["cpu_arch"], m["simd"]
    assert not validate(doc)
    line = next(x for x in header_lines(doc) if x.startswith("- Machine:"))
    assert line.startswith(f"- Machine: {m['cpu']}, ")


def test_loglog_slope():
    assert sweeps.loglog_slope([1, 10, 100], [2e-3, 2e-2, 2e-1]) == pytest.approx(1.0)
    assert sweeps.loglog_slope([10, 1000], [5.0, 5.0]) == pytest.approx(0.0)
    assert sweeps.loglog_slope([10, 10], [1.0, 2.0]) is None


def test_render_rewrites_the_page_of_a_saved_run(fake, tmp_path):
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps(fake["doc"]))
    md = tmp_path / "page.md"
    rc, out, _ = _main(["--render", str(saved), "--markdown", str(md)])
    assert rc == 0 and out == md.read_text() + "\n"
    assert "ratio of the fastest rounds" in out and "Host pauses" in out
    # The fastest-round ratio in the page is anchor min / augkit min, for every size.
    section = out.split("## Results", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if "| numpy add |" in line]
    for size in (1000, 4000):
        case = fake["cases"][("double", size)]
        mine, anchor = case["results"][0], _result(case, "numpy add")
        want = f"| {anchor['min_s'] / mine['min_s']:.2f}× | {anchor['runs']} |"
        assert any(want in row for row in rows), (want, rows)
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**fake["doc"], "format": "other"}))
    rc, _, err = _main(["--render", str(broken)])
    assert rc == 2 and "allowed: a file written by augkit bench --out" in err


def test_render_merges_runs_of_one_machine(fake, tmp_path):
    """Several saved runs (one suite each) render as one page and one valid document: every
    case once, in order, times added up; runs of another mode are refused by name."""
    doc = fake["doc"]
    parts = []
    for i, case in enumerate(doc["cases"][:2]):
        part = {**doc, "cases": [case], "elapsed_s": 1.0 + i, "cpu_s": 2.0,
                "command": f"augkit bench --case {i}"}
        path = tmp_path / f"part{i}.json"
        path.write_text(json.dumps(part))
        parts.append(str(path))
    merged = tmp_path / "merged.json"
    rc, out, err = _main(["--render", *parts, "--out", str(merged)])
    assert rc == 0, err
    got = json.loads(merged.read_text())
    assert not validate(got)
    assert got["cases"] == doc["cases"][:2] and got["elapsed_s"] == 3.0
    assert got["command"] == "augkit bench --case 0 && augkit bench --case 1"
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**doc, "quick": not doc["quick"]}))
    rc, _, err = _main(["--render", parts[0], str(other)])
    assert rc == 2 and "differs from the first in 'quick'" in err


def test_budget_option_sets_the_time_budget_per_case(fake, tmp_path, monkeypatch):
    rc, _, err = _main(["--budget-s", "0", "--list"])
    assert rc == 2 and "--budget-s: got a number <= 0; allowed: seconds > 0" in err
    monkeypatch.syspath_prepend(str(fake["dir"]))
    out = tmp_path / "r.json"
    rc, _, err = _main(["--quick", "--no-progress", "--suite", "fake", "--budget-s", "0.125",
                        "--suite-module", "augkit_fake_suite", "--out", str(out)])
    assert rc == fake["rc"], err  # the fake suite's planted errors, as in the fixture's run
    assert json.loads(out.read_text())["settings"]["budget_s"] == 0.125


def test_header_names_the_card_driver_cuda_and_torch(fake):
    from augkit.benchmarks.report import header_lines

    doc = copy.deepcopy(fake["doc"])
    doc["machine"]["gpu"] = {"name": "NVIDIA H200", "memory_bytes": 150 << 30, "count": 1,
                             "cuda": "13.0", "driver": "580.1", "capability": "9.0"}
    doc["versions"]["torch"] = "2.11.0"
    assert not validate(doc)
    line = next(x for x in header_lines(doc) if x.startswith("- Machine:"))
    assert ("GPU: NVIDIA H200 (150.0 GiB, compute capability 9.0, driver 580.1, CUDA 13.0, "
            "torch 2.11.0)") in line


def test_case_min_rounds_raises_the_round_count_up_to_max_runs():
    """A case's min_rounds runs that many rounds even with no time budget left, never more
    than the mode's max_runs; without it a spent budget gives the settings' min_runs."""
    from augkit.benchmarks.case import Anchor, Case
    from augkit.benchmarks.harness import run_case
    from augkit.benchmarks.timing import Settings

    settings = Settings(warmup=1, target_s=1e-5, min_runs=5, max_runs=12, budget_s=0.0,
                        memory=False)

    def case(min_rounds):
        return Case(suite="t", name="rounds", transforms=(), size=1, size_unit="calls",
                    items=1, unit="calls/s", setup=lambda: 0, run=lambda s: s,
                    anchors=[Anchor("same", lambda s: s)], min_rounds=min_rounds)

    for asked, want in ((0, 5), (9, 9), (100, 12)):
        record = run_case(case(asked), "t", settings)
        assert [r["runs"] for r in record["results"]] == [want, want]


def test_calibration_is_not_pinned_by_one_slow_first_call():
    """A call that stalls once (GC, a page fault) just after warm-up must not leave the case
    at one call per measurement: the first single call is timed again before it decides."""
    import time

    calls = {"n": 0}

    def fn(state):
        calls["n"] += 1
        if calls["n"] == 1:
            time.sleep(0.003)  # the stall: above the 1 ms target, below 10x it

    settings = timing.Settings()
    reps = timing.calibrate(fn, None, lambda: None, settings)
    assert reps > 10

    def slow(state):  # a call that really lasts the target keeps one call per measurement
        time.sleep(0.0015)

    assert timing.calibrate(slow, None, lambda: None, settings) == 1


# ---- discovery -------------------------------------------------------------------------------


def test_discovery_finds_exactly_the_modules_of_the_suites_package(tmp_path, monkeypatch):
    """Every module of augkit.benchmarks.suites is a suite, and nothing else is: a module with
    SUITE and cases() beside the harness is infrastructure, never discovered."""
    from pathlib import Path

    import augkit.benchmarks
    import augkit.benchmarks.suites as suites

    files = {p.stem for p in Path(suites.__file__).parent.glob("*.py")
             if not p.stem.startswith("_")}
    assert files  # the suites are there to find
    found = discovery.discover()
    assert {m.module for m in found} == files
    assert all(m.error is None for m in found), [m.error for m in found if m.error]

    (tmp_path / "stray_suite.py").write_text(
        "SUITE = 'stray'\ndef cases(quick, device):\n    return []\n")
    monkeypatch.setattr(augkit.benchmarks, "__path__",
                        [*augkit.benchmarks.__path__, str(tmp_path)])
    # Importable from the infrastructure package, yet not a suite.
    assert importlib.util.find_spec("augkit.benchmarks.stray_suite") is not None
    names = {m.module for m in discovery.discover()}
    assert names == files and "stray_suite" not in names


def test_results_page_is_the_generators_output_of_the_saved_results():
    """benchmarks/RESULTS.md holds nothing by hand: it is the page report.py writes from
    benchmarks/results.json (`augkit bench --render` rewrites it after report.py changes)."""
    from pathlib import Path

    folder = Path(__file__).resolve().parent.parent / "benchmarks"
    doc = json.loads((folder / "results.json").read_text())
    assert validate(doc) == []
    assert (folder / "RESULTS.md").read_text() == report.markdown(doc)
