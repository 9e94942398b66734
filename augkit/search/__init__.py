"""Policy search: a policy file whose values may be ranges (a *space*), searched with Optuna.

``augkit.search.search(space, objective, trials=...)`` runs the study; ``augkit.search.space``
reads and checks space files without Optuna; Optuna is imported only when a study runs
(``pip install 'augkit[search]'``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["SearchResult", "Space", "load_space", "policy_hash", "search"]


def search(*args: Any, **kwargs: Any) -> Any:
    """See :func:`augkit.search.run.search`."""
    from augkit.search.run import search as run_search

    return run_search(*args, **kwargs)


def __getattr__(name: str) -> Any:
    # Lazy, so the command line's parser can import augkit.search.cli without the policy
    # machinery, and nothing here imports Optuna until a study runs.
    if name == "SearchResult":
        from augkit.search import run

        return run.SearchResult
    if name in ("Space", "load_space", "policy_hash"):
        from augkit.search import space

        return getattr(space, name)
    raise AttributeError(f"module 'augkit.search' has no attribute {name!r}")
