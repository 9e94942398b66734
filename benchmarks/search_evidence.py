"""Does policy search pay off on the shipped objectives? Writes benchmarks/SEARCH.md.

For each objective and seed: the held-out score (``split="test"``, data the search never saw)
of no augmentation, of the example policy in examples/policies/, and of the best policy of a
TPE study and of a random-search study (each ``--trials`` trials on ``split="search"``).
Reported as the mean over seeds and a 95 % t-interval.

    python benchmarks/search_evidence.py --seeds 5 --trials 30            # the full size
    python benchmarks/search_evidence.py --objective images --json out.json  # one part
    python benchmarks/search_evidence.py --merge a.json b.json            # parts -> SEARCH.md
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = {"imbalance": "imbalance.yaml", "graphs": "graph.yaml", "images": "vision.yaml"}
ARMS = ("none", "example", "tpe", "random")


def example_policy(name: str):
    from augkit import load_policy

    text = (ROOT / "examples" / "policies" / EXAMPLES[name]).read_text()
    if name == "images":  # the example is written for two classes; digits has ten
        text = text.replace("num_classes: 2", "num_classes: 10")
    return load_policy(text)


def run_objective(name: str, seeds: int, trials: int, json_path: str | None = None) -> dict:
    import torch

    from augkit import load_policy
    from augkit.search import search
    from augkit.search.objectives import OBJECTIVES

    torch.set_num_threads(1)
    objective = OBJECTIVES[name]
    space = ROOT / "examples" / "spaces" / f"{name}.yaml"
    rows = []
    for seed in range(seeds):
        start = time.time()
        row = {"seed": seed,
               "none": objective(load_policy("seed: 0"), seed=seed, split="test"),
               "example": objective(example_policy(name), seed=seed, split="test")}
        for sampler in ("tpe", "random"):
            result = search(space, lambda p, t, s=seed: objective(p, t, seed=s),
                            trials=trials, sampler=sampler, seed=seed)
            row[sampler] = objective(result.best_policy, seed=seed, split="test")
            row[f"{sampler}_search"] = result.best_value
            row[f"{sampler}_hash"] = result.best_hash
        row["seconds"] = time.time() - start
        rows.append(row)
        print(name, json.dumps(row), flush=True)
        if json_path:  # every finished seed is kept if the run is stopped
            part = {"objective": name, "seeds": len(rows), "trials": trials, "rows": rows}
            Path(json_path).write_text(json.dumps([part], indent=1))
    return {"objective": name, "seeds": seeds, "trials": trials, "rows": rows}


def interval(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of a 95 % t-interval."""
    from scipy import stats

    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, math.nan
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)


def versus_random(diff: float, half: float) -> str:
    """The reading of a paired difference TPE - random (mean and 95 % half-width)."""
    if diff >= 0:
        return "yes (higher)"
    if diff + half >= 0:  # a NaN half-width (one seed) compares false: no tie is claimed
        return "yes (tie)"
    return "no"


def markdown(parts: list[dict], command: str, note: str = "") -> str:
    lines = [
        "# Policy search: evidence",
        "",
        "Held-out score (data the search never saw; higher is better) of no augmentation, the",
        "example policy in examples/policies/, and the best policy of a TPE and of a random",
        "search over examples/spaces/ (the searches see `split=\"search\"`; the scores here "
        "are `split=\"test\"`).",
        "Mean over seeds and 95 % t-interval half-width. Studies use Optuna's default median",
        "pruner (the objectives report per fold or per epoch). Written by",
        f"`{command}`.",
        "",
        "The last column is the paired difference TPE - random over the seeds (mean ± 95 % "
        "half-width). \"TPE matches or beats random\" reads it: \"yes (higher)\" where its "
        "mean is at least zero, \"yes (tie)\" where the mean is below zero but the interval "
        "reaches zero (the two searches are not told apart), \"no\" where random search is "
        "ahead beyond the interval.",
        "",
        "| objective | seeds | trials | none | example | TPE | random | TPE beats none | "
        "TPE matches or beats random | TPE - random |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for part in parts:
        diff, diff_half = interval([r["tpe"] - r["random"] for r in part["rows"]])
        cells = {}
        for arm in ARMS:
            mean, half = interval([r[arm] for r in part["rows"]])
            cells[arm] = mean
            cells[arm + "_text"] = f"{mean:.3f} ± {half:.3f}"
        lines.append(
            f"| {part['objective']} | {part['seeds']} | {part['trials']} | "
            + " | ".join(cells[a + "_text"] for a in ARMS)
            + f" | {'yes' if cells['tpe'] > cells['none'] else 'no'} | "
            f"{versus_random(diff, diff_half)} | {diff:+.3f} ± {diff_half:.3f} |")
    reduced = [p for p in parts if p["seeds"] < 5 or p["trials"] < 30]
    if reduced:
        lines += ["", "Reduced size: " + "; ".join(
            f"{p['objective']} ran {p['seeds']} seeds x {p['trials']} trials" for p in reduced)
            + " (the full size is 5 seeds x 30 trials). With 10 trials or fewer TPE is still in "
            "its random start-up and draws what random search draws."]
    if note:
        lines += ["", note]
    lines += ["", "Per seed (held-out score; the best search-split value in brackets):", ""]
    for part in parts:
        for r in part["rows"]:
            lines.append(
                f"- {part['objective']} seed {r['seed']}: none {r['none']:.3f}, example "
                f"{r['example']:.3f}, TPE {r['tpe']:.3f} ({r['tpe_search']:.3f}, policy "
                f"{r['tpe_hash']}), random {r['random']:.3f} ({r['random_search']:.3f}, policy "
                f"{r['random_hash']}); {r['seconds']:.0f} s")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objective", action="append", choices=sorted(EXAMPLES))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--json", help="write the rows here instead of SEARCH.md (with one "
                        "objective, after every seed)")
    parser.add_argument("--merge", nargs="+", help="JSON parts to merge into SEARCH.md")
    parser.add_argument("--note", default="", help="a paragraph on the reading of the table")
    parser.add_argument("--command", default="python benchmarks/search_evidence.py",
                        help="the command line named in SEARCH.md")
    args = parser.parse_args()
    if args.merge:
        parts = [p for f in args.merge for p in json.loads(Path(f).read_text())]
    else:
        names = args.objective or sorted(EXAMPLES)
        single = args.json if args.json and len(names) == 1 else None
        parts = [run_objective(n, args.seeds, args.trials, single) for n in names]
        if args.json:
            Path(args.json).write_text(json.dumps(parts, indent=1))
            return
    (ROOT / "benchmarks" / "SEARCH.md").write_text(markdown(parts, args.command, args.note))


if __name__ == "__main__":
    main()
