"""Lazy package attributes: a plugin package names its public classes without importing
their modules (and their heavy backends) until a name is first used."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_attributes(package: str, names: dict[str, str],
                    ) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """``(__all__, __getattr__, __dir__)`` for ``package``: ``names`` maps each public name
    to the module that defines it; a name mapped to itself is the module."""

    def __getattr__(name: str) -> Any:
        target = names.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = import_module(target)
        return module if target.rsplit(".", 1)[-1] == name else getattr(module, name)

    def __dir__() -> list[str]:
        return sorted(names)

    return sorted(names), __getattr__, __dir__
