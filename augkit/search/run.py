"""``search(space, objective, trials=...)``: an Optuna study over a space's concrete policies.

The objective is called ``objective(policy, trial)`` with a concrete ``Policy`` and the Optuna
trial (to report intermediate values with ``trial.report(value, step)`` and stop early when
``trial.should_prune()``); it returns a number, maximised unless ``direction="minimize"``.

Samplers are Optuna's: ``"tpe"`` (TPESampler, multivariate over each group of parameters
that occur together), ``"random"`` (RandomSampler) and ``"grid"``:
every point of a finite space (:meth:`Space.grid`) is enqueued in the study once, in order, and
the trials take them; a space whose step choices make some parameters conditional has no
product grid for Optuna's GridSampler, which is why the points are enqueued. With a storage URL
(``sqlite:///study.db``) the study outlives the process: the same ``study_name`` resumes it,
and several processes may run trials of one study.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from augkit.errors import AugkitError, InputError, ParamError, PolicyError
from augkit.policy import Policy
from augkit.search.space import Space, load_space, policy_hash

SAMPLERS = ("tpe", "random", "grid")
DIRECTIONS = ("maximize", "minimize")
_SPACE_ATTR = "augkit_space"
_HASH_ATTR = "augkit_space_hash"
_GRID_ATTR = "augkit_grid_enqueued"


def optuna_module() -> Any:
    """Optuna, or an AugkitError that says how to install it."""
    try:
        import optuna
    except ImportError:
        raise AugkitError("policy search needs Optuna; allowed: install it with "
                          "pip install 'augkit[search]'") from None
    return optuna


@dataclass
class SearchResult:
    """A finished (or stopped) study: the best policy, every trial, and plots."""

    space: Space
    study: Any

    @property
    def best_params(self) -> dict[str, Any]:
        return dict(self.study.best_trial.params)

    @property
    def best_value(self) -> float:
        return float(self.study.best_value)

    @property
    def best_policy(self) -> Policy:
        return self.space.policy(self.best_params)

    @property
    def best_hash(self) -> str:
        """The content hash of the best policy's canonical form (its name in logs)."""
        return policy_hash(self.best_policy)

    def trials(self) -> Any:
        """Every trial as a pandas DataFrame (number, value, state, params_*, durations)."""
        return self.study.trials_dataframe()

    def save_best(self, path: str | os.PathLike) -> str:
        """Write the best policy as plain YAML (its hash and score in a comment at the top);
        returns the hash."""
        digest = self.best_hash
        head = (f"# augkit policy {digest}: best of study {self.study.study_name} "
                f"(trial {self.study.best_trial.number}, value {self.best_value:.6g})\n")
        Path(path).write_text(head + self.best_policy.to_yaml(include_state=True))
        return digest

    def plots(self, folder: str | os.PathLike) -> list[Path]:
        """Optimisation history, parameter importances and a parallel-coordinate view as
        PNGs in ``folder``; the last two need two finished trials and a searched value."""
        optuna = optuna_module()
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from optuna.visualization import matplotlib as views

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        done = [t for t in self.study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        searched = len({k for t in done for k in t.params}) > 0
        makers = {"history": views.plot_optimization_history}
        if len(done) >= 2 and searched:
            makers["importances"] = views.plot_param_importances
            makers["parallel_coordinate"] = views.plot_parallel_coordinate
        written = []
        import warnings

        for name, make in makers.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the matplotlib views are "experimental"
                try:
                    ax = make(self.study)
                except (ValueError, RuntimeError):  # e.g. importances of a constant value
                    continue
            figure = (ax.flat[0] if hasattr(ax, "flat") else ax).figure
            figure.set_size_inches(9, 5)
            figure.tight_layout()
            path = out / f"{name}.png"
            figure.savefig(path, dpi=100)
            plt.close(figure)
            written.append(path)
        return written


def open_storage(storage: Any) -> Any:
    """An Optuna storage: a URL string opened as an ``RDBStorage`` (an AugkitError naming the
    URL and the reason where it cannot be: a malformed URL, an unknown or uninstalled database
    driver, a file that cannot be created), anything else (None, a storage object) as it is."""
    if not isinstance(storage, str):
        return storage
    optuna = optuna_module()
    try:
        return optuna.storages.RDBStorage(storage)
    except Exception as exc:  # SQLAlchemy's and the drivers' errors share no base class
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AugkitError(f"storage: cannot open {storage!r} ({reason}); allowed: a database "
                          "URL that SQLAlchemy can open, e.g. sqlite:///study.db") from None


def make_sampler(name: str, seed: int) -> Any:
    optuna = optuna_module()
    if name == "tpe":
        # A step choice makes its parameters conditional: ``group`` models each set of
        # parameters that occur together jointly, where plain multivariate TPE would only
        # model the choices every trial shares and draw the rest independently.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True)
    if name in ("random", "grid"):
        return optuna.samplers.RandomSampler(seed=seed)
    raise ParamError(f"sampler: got {name!r}; allowed: {', '.join(SAMPLERS)}", param="sampler")


def search(
    space: Space | str | os.PathLike | dict,
    objective: Any,
    *,
    trials: int,
    sampler: str = "tpe",
    seed: int = 0,
    storage: str | None = None,
    study_name: str | None = None,
    timeout: float | None = None,
    n_jobs: int = 1,
    direction: str = "maximize",
    pruner: Any = None,
    show_progress_bar: bool = False,
) -> SearchResult:
    """Run ``trials`` more trials of the study (a new one, or the stored one of that name).

    ``pruner`` is an Optuna pruner (None: Optuna's default, the median pruner). A trial whose
    values make an invalid policy (two parameters at odds), or that the data refuse (an
``InputError``: more neighbours than a class has rows), is recorded as failed; other errors
stop the study. A seeded
    study with ``n_jobs=1`` gives the same trials on every run.
    """
    optuna = optuna_module()
    space = space if isinstance(space, Space) else load_space(space)
    if sampler not in SAMPLERS:
        raise ParamError(f"sampler: got {sampler!r}; allowed: {', '.join(SAMPLERS)}",
                         param="sampler")
    if direction not in DIRECTIONS:
        raise ParamError(f"direction: got {direction!r}; allowed: {', '.join(DIRECTIONS)}",
                         param="direction")
    if not isinstance(trials, int) or isinstance(trials, bool) or trials < 0:
        raise ParamError(f"trials: got {trials!r}; allowed: an integer >= 0", param="trials")
    if not callable(objective):
        raise ParamError(f"objective: got {type(objective).__name__}; allowed: a callable "
                         "objective(policy, trial) -> number", param="objective")
    grid = space.grid() if sampler == "grid" else None
    # Failed trials keep their reason in user_attrs["error"] (the final table counts them);
    # Optuna's own log would print a traceback for each.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(
        storage=open_storage(storage), study_name=study_name, direction=direction, pruner=pruner,
        load_if_exists=True, sampler=optuna.samplers.RandomSampler(seed=seed),
    )
    stored = study.user_attrs.get(_HASH_ATTR)
    if stored is not None and stored != space.hash:
        raise AugkitError(f"study {study.study_name!r} in {storage} was made for another space "
                          "(its stored space differs); allowed: the same space to resume, or "
                          "a new study name")
    study.set_user_attr(_HASH_ATTR, space.hash)
    study.set_user_attr(_SPACE_ATTR, space.text)
    # A resumed study draws on from a seed of its own, not the first run's draws again.
    study.sampler = make_sampler(sampler, seed + len(study.trials))
    if grid is not None:
        if not study.user_attrs.get(_GRID_ATTR):
            for point in grid:
                study.enqueue_trial(point, skip_if_exists=True)
            study.set_user_attr(_GRID_ATTR, True)
        waiting = len(study.get_trials(deepcopy=False,
                                       states=(optuna.trial.TrialState.WAITING,)))
        trials = min(trials, waiting)

    def run_trial(trial: Any) -> float:
        try:
            policy = space.suggest(trial)
        except PolicyError as exc:
            trial.set_user_attr("error", str(exc))
            raise
        trial.set_user_attr("policy_hash", policy_hash(policy))
        try:
            value = objective(policy, trial)
        except (ParamError, InputError) as exc:
            trial.set_user_attr("error", str(exc))  # the trial fails; the study goes on
            raise
        try:
            return float(value)
        except (TypeError, ValueError):
            raise AugkitError(f"objective: returned {type(value).__name__}; allowed: a "
                              "number") from None

    study.optimize(run_trial, n_trials=trials, timeout=timeout, n_jobs=n_jobs,
                   catch=(PolicyError, ParamError, InputError), show_progress_bar=show_progress_bar)
    return SearchResult(space, study)


def stored_space(storage: str, study_name: str) -> Space:
    """The space a stored study was made with (to resume it without the file)."""
    optuna = optuna_module()
    try:
        study = optuna.load_study(study_name=study_name, storage=open_storage(storage))
    except KeyError:
        raise AugkitError(f"no study {study_name!r} in {storage}; allowed: the name of a "
                          "stored study") from None
    text = study.user_attrs.get(_SPACE_ATTR)
    if text is None:
        raise AugkitError(f"study {study_name!r} in {storage} was not made by augkit search; "
                          "allowed: a study that augkit search made")
    return load_space(text if "\n" in text else text + "\n")
