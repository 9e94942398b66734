"""augkit.search on Optuna: seeded studies repeat trial by trial, a SQLite study resumes after
a kill, pruning stops trials, grid search visits every point once, SearchResult saves the best
policy (same hash after a YAML round trip) and plots; the CLI; the shipped objectives."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

optuna = pytest.importorskip("optuna")

from augkit import load_policy  # noqa: E402
from augkit.cli import main  # noqa: E402
from augkit.errors import AugkitError, ParamError  # noqa: E402
from augkit.search import objectives, search  # noqa: E402
from augkit.search.run import stored_space  # noqa: E402
from augkit.search.space import load_space, policy_hash  # noqa: E402

SPACE = """\
sample:
  - edge_dropout: {p: {uniform: [0.0, 0.5]}}
  - choice:
      - node_dropout: {p: {int: [0, 1]}}
      - feature_masking: {p: {choice: [0.1, 0.2, 0.3]}}
      - null
"""


def score(policy, trial):
    """A cheap objective: near 0.3 for edge dropout, feature masking preferred."""
    value = -abs(policy.sample[0].p - 0.3)
    names = [next(iter(s.to_dict())) for s in policy.sample]
    return value + (0.1 if "feature_masking" in names else 0.0)


def _params(result):
    return [(t.number, t.params, t.value) for t in result.study.trials]


@pytest.mark.parametrize("sampler", ["tpe", "random"])
def test_a_seeded_study_repeats_trial_by_trial(sampler):
    a = search(SPACE, score, trials=14, sampler=sampler, seed=3)
    b = search(SPACE, score, trials=14, sampler=sampler, seed=3)
    c = search(SPACE, score, trials=14, sampler=sampler, seed=4)
    assert _params(a) == _params(b)
    assert _params(a) != _params(c)


def test_tpe_finds_a_better_region_than_its_start():
    result = search(SPACE, score, trials=40, sampler="tpe", seed=0)
    values = [t.value for t in result.study.trials]
    assert max(values[20:]) >= max(values[:10])
    assert result.best_value > 0.0  # feature masking with p near 0.3


def test_tpe_draws_the_parameters_of_a_chosen_step_jointly(monkeypatch):
    """Past its start-up, TPE draws a chosen step's parameters from the model of the trials
    that had that step, not one parameter at a time."""
    independent = []
    original = optuna.samplers.TPESampler.sample_independent

    def spy(self, study, trial, name, distribution):
        independent.append((trial.number, name))
        return original(self, study, trial, name, distribution)

    monkeypatch.setattr(optuna.samplers.TPESampler, "sample_independent", spy)
    search(SPACE, score, trials=30, sampler="tpe", seed=0)
    conditional = [(n, name) for n, name in independent if n >= 20
                   and name.startswith("sample[1].choice")]
    assert conditional == []
    assert any(n < 10 for n, _ in independent)  # the start-up draws at random


def test_grid_visits_every_point_once():
    space = SPACE.replace("{uniform: [0.0, 0.5]}", "{uniform: [0.0, 0.5], step: 0.25}")
    result = search(space, score, trials=100, sampler="grid")
    points = load_space(space).grid()
    assert len(points) == 3 * (2 + 3 + 1)
    assert sorted(map(repr, (t.params for t in result.study.trials))) == sorted(
        map(repr, points))
    assert result.best_params["sample[0].edge_dropout.p"] == 0.25


def test_pruning_stops_trials_that_report_low_values():
    calls = []

    def reported(policy, trial):
        value = score(policy, trial)
        for step in range(10):
            trial.report(value, step)
            if trial.should_prune():
                calls.append(step)
                raise optuna.TrialPruned()
        return value

    pruner = optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0)
    result = search(SPACE, reported, trials=20, seed=1, pruner=pruner)
    pruned = [t for t in result.study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned and calls and all(step == 0 for step in calls)


def test_resume_after_a_kill_from_sqlite(tmp_path):
    db = tmp_path / "study.db"
    storage = f"sqlite:///{db}"
    script = textwrap.dedent(f"""
        import os, signal
        from augkit.search import search
        from tests.test_search_run import SPACE, score
        def dies(policy, trial):
            if trial.number == 4:
                os.kill(os.getpid(), signal.SIGKILL)
            return score(policy, trial)
        search(SPACE, dies, trials=10, seed=0, storage={storage!r}, study_name="s")
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert run.returncode == -9
    study = optuna.load_study(study_name="s", storage=storage)
    states = [t.state for t in study.trials]
    assert states[:4] == [optuna.trial.TrialState.COMPLETE] * 4
    assert states[4] == optuna.trial.TrialState.RUNNING  # killed mid-trial
    result = search(SPACE, score, trials=5, seed=0, storage=storage, study_name="s")
    done = [t for t in result.study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(done) == 9 and [t.number for t in result.study.trials] == list(range(10))
    # The resumed trials are new draws, not the first run's again.
    first = {repr(t.params) for t in result.study.trials[:4]}
    assert not first & {repr(t.params) for t in result.study.trials[5:]}


def test_a_stored_study_refuses_another_space(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    search(SPACE, score, trials=1, storage=storage, study_name="s")
    with pytest.raises(AugkitError, match="another space"):
        search(SPACE.replace("0.5]", "0.4]"), score, trials=1, storage=storage, study_name="s")


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ParamError, match="allowed: tpe, random, grid"):
        search(SPACE, score, trials=1, sampler="cmaes")
    with pytest.raises(ParamError, match="trials"):
        search(SPACE, score, trials=-1)
    with pytest.raises(ParamError, match="objective"):
        search(SPACE, "score", trials=1)
    with pytest.raises(AugkitError, match="allowed: a number"):
        search(SPACE, lambda p, t: "high", trials=1)


@pytest.mark.parametrize("url", ["bogus://x", "not a url", "sqlite:////no/such/dir/x.db"])
def test_a_storage_that_cannot_be_opened_is_a_clear_error(url, capsys):
    with pytest.raises(AugkitError, match=r"storage: cannot open .*allowed: a database URL"):
        search(SPACE, score, trials=1, storage=url)
    with pytest.raises(AugkitError, match=r"storage: cannot open"):
        stored_space(url, "study")
    assert main(["search", "examples/spaces/images.yaml", "--objective",
                 "augkit.search.objectives:images", "--trials", "1", "--storage", url]) == 2
    assert "storage: cannot open" in capsys.readouterr().err


def test_best_policy_saves_as_yaml_with_the_same_hash_and_plots(tmp_path):
    result = search(SPACE, score, trials=12, seed=2)
    path = tmp_path / "best.yaml"
    digest = result.save_best(path)
    assert digest == result.best_hash == policy_hash(load_policy(path))
    assert load_policy(path) == result.best_policy
    assert path.read_text().startswith(f"# augkit policy {digest}")
    table = result.trials()
    assert len(table) == 12 and "params_sample[0].edge_dropout.p" in table.columns
    written = result.plots(tmp_path / "plots")
    assert {p.name for p in written} == {"history.png", "importances.png",
                                         "parallel_coordinate.png"}
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in written)


def test_cli_search_then_resume(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    args = ["search", str(space), "--objective", "tests.test_search_run:score", "--trials", "4",
            "--no-progress", "--out", "best.yaml", "--plots", "plots"]
    monkeypatch.syspath_prepend(str(__import__("pathlib").Path(__file__).parents[1]))
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "study space: 4 trials" in out and "best: trial" in out
    assert (tmp_path / "study.db").exists() and (tmp_path / "plots" / "history.png").exists()
    assert load_policy(tmp_path / "best.yaml")
    assert main(["search", "--resume", "--study-name", "space", "--objective",
                 "tests.test_search_run:score", "--trials", "3", "--no-progress"]) == 0
    assert "study space: 7 trials" in capsys.readouterr().out
    assert main(["search", str(space), "--objective", "nowhere:f", "--trials", "1"]) == 2
    assert "--objective: cannot import 'nowhere'" in capsys.readouterr().err


def test_the_package_and_the_parser_do_not_import_optuna():
    code = ("import sys, augkit, augkit.cli, augkit.search; augkit.cli.build_parser(); "
            "print('optuna' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.stdout.strip() == "False", run.stderr


@pytest.mark.parametrize("name, kwargs", [
    ("imbalance", {}),
    ("graphs", {"epochs": 2}),
    ("images", {"epochs": 2}),
])
def test_each_objective_runs_one_short_trial(name, kwargs):
    objective = getattr(objectives, name)
    space = f"examples/spaces/{name}.yaml"
    result = search(space, lambda p, t: objective(p, t, **kwargs), trials=1, seed=0)
    assert 0.0 <= result.best_value <= 1.0
    held_out = objective(result.best_policy, split="test", **kwargs)
    assert 0.0 <= held_out <= 1.0
    with pytest.raises(ParamError, match="split"):
        objective(result.best_policy, split="train")


@pytest.mark.parametrize("train_size", [10, 40, 120])
def test_graph_objective_splits_are_disjoint_and_balanced(train_size):
    train, valid, test = objectives.graph_splits(seed=3, train_size=train_size)
    assert (len(train), len(valid), len(test)) == (train_size, 200, 200)
    ids = [id(g) for g in train + valid + test]
    assert len(set(ids)) == len(ids)
    for part in (valid, test):  # both classes, so accuracy is not one class's share
        labels = [int(g.y) for g in part]
        assert 60 < sum(labels) < 140


@pytest.mark.parametrize("train_size", [0, -5, 2.5, True])
def test_graph_objective_refuses_a_bad_train_size(train_size):
    with pytest.raises(ParamError, match="train_size"):
        objectives.graph_splits(train_size=train_size)
    with pytest.raises(ParamError, match="train_size"):
        objectives.graphs(load_policy("seed: 0"), train_size=train_size)


@pytest.mark.parametrize("name", ["graphs", "images"])
def test_an_objective_refuses_zero_epochs(name):
    # No epoch would train or score: the objective would return 0.0 as if it had.
    with pytest.raises(ParamError, match="epochs: got 0"):
        getattr(objectives, name)(load_policy("seed: 0"), epochs=0)


def test_cli_refuses_unwritable_outputs_before_any_trial(tmp_path, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    db = tmp_path / "study.db"
    base = ["search", "examples/spaces/images.yaml", "--objective",
            "augkit.search.objectives:images", "--trials", "1", "--storage", f"sqlite:///{db}"]
    for extra, message in ((["--out", str(tmp_path / "no" / "best.yaml")], "does not exist"),
                           (["--out", str(tmp_path)], "is a folder"),
                           (["--plots", str(a_file)], "is a file")):
        assert main(base + extra) == 2
        assert message in capsys.readouterr().err
    assert not db.exists()  # refused before the study was made


def test_without_optuna_the_error_says_how_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "optuna", None)  # `import optuna` raises ImportError
    with pytest.raises(AugkitError, match=r"pip install 'augkit\[search\]'"):
        search(SPACE, score, trials=1)
    assert main(["search", "examples/spaces/images.yaml", "--objective",
                 "augkit.search.objectives:images", "--trials", "1"]) == 2
    assert "augkit[search]" in capsys.readouterr().err


@pytest.mark.parametrize("diffs, reading", [
    ([0.01, 0.0, 0.02, 0.0, 0.0], "yes (higher)"),
    ([0.0, 0.0, 0.0, 0.0, 0.0], "yes (higher)"),
    ([-0.02, 0.01, -0.01, 0.0, 0.01], "yes (tie)"),
    ([-0.02, -0.03, -0.02, -0.025, -0.02], "no"),
    ([-0.01], "no"),  # one seed has no interval: no tie is claimed
])
def test_evidence_reads_the_paired_difference(diffs, reading):
    from augkit.benchmarks.search_evidence import interval, versus_random

    assert versus_random(*interval(diffs)) == reading
