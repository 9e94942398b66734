"""What augkit.ray needs from Ray: the import with augkit's error, and a dataset's blocks in
its row order (``to_arrow_refs`` with ``preserve_order``, so row ids are stable)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from augkit.errors import AugkitError, InputError

INSTALL_HINT = "pip install 'augkit[ray]'"


def require_ray() -> Any:
    """The ``ray`` module, or an AugkitError saying how to install it."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise AugkitError(f"augkit.ray needs Ray Data, which is not installed; install it "
                          f"with: {INSTALL_HINT}") from exc
    return ray


@contextlib.contextmanager
def preserved_order(dataset: Any = None) -> Iterator[None]:
    """Ray Data executes with ``preserve_order`` on inside the block: the current context
    (datasets created inside keep it) and ``dataset``'s own, restored after."""
    require_ray()
    from ray.data import DataContext

    contexts = [DataContext.get_current()]
    if dataset is not None:
        contexts.append(dataset.context)
    before = [c.execution_options.preserve_order for c in contexts]
    for c in contexts:
        c.execution_options.preserve_order = True
    try:
        yield
    finally:
        for c, b in zip(contexts, before, strict=True):
            c.execution_options.preserve_order = b


def ordered_blocks(dataset: Any) -> list[Any]:
    """The dataset's blocks as ``ObjectRef[pyarrow.Table]``, in the dataset's row order."""
    with preserved_order(dataset):
        return list(dataset.to_arrow_refs())


def check_dataset(dataset: Any, owner: str) -> None:
    ray = require_ray()
    if not isinstance(dataset, ray.data.Dataset):
        raise InputError(f"{owner}: got {type(dataset).__name__}; allowed: a ray.data.Dataset "
                          "(e.g. ray.data.read_parquet(path) or ray.data.from_pandas(df))")
