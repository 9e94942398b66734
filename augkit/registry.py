"""Registry: transform name -> class.

Built-in transforms of the core are listed in ``_BUILTINS``; every plugin family, augkit's own
included, is found through the entry-point group ``augkit.plugins``. An entry point names a
*manifest*, a plain dict in a light module::

    TRANSFORMS = {
        "edge_dropout": {"target": "augkit.plugins.graph.transforms:EdgeDropout",
                         "kinds": ["graph"], "levels": ["sample", "batch"]},
    }

(a bare ``"module:Class"`` string also works), so listing names imports no backend library:
a plugin's module is imported the first time one of its transforms is used. Third-party
packages may namespace their names as ``package.name``. Two packages registering one name
is an error that names both.
"""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from augkit.errors import RegistryError, did_you_mean

if TYPE_CHECKING:
    from augkit.transform import Transform

GROUP = "augkit.plugins"

_BUILTINS: dict[str, dict[str, Any]] = {
    "compose": {"target": "augkit.compose:Compose", "kinds": ["any"]},
    "one_of": {"target": "augkit.compose:OneOf", "kinds": ["any"]},
    "some_of": {"target": "augkit.compose:SomeOf", "kinds": ["any"]},
    "random_apply": {"target": "augkit.compose:RandomApply", "kinds": ["any"]},
    "views": {"target": "augkit.compose:Views", "kinds": ["any"]},
    "minmax_scale": {"target": "augkit.scaling:MinMaxScale", "kinds": ["graph", "table"]},
    "standardize": {"target": "augkit.scaling:Standardize", "kinds": ["graph", "table"]},
    "diffusion_noise": {
        "target": "augkit.diffusion:DiffusionNoise",
        "kinds": ["image", "graph", "table"],
    },
}


@dataclass
class Entry:
    """One registered name: where its class lives and which package registered it."""

    name: str
    target: str
    package: str
    kinds: tuple[str, ...] = ()
    cls: type | None = field(default=None, repr=False)

    def load(self) -> type[Transform]:
        if self.cls is None:
            module_name, _, attr = self.target.partition(":")
            try:
                module = importlib.import_module(module_name)
                self.cls = getattr(module, attr)
            except ImportError as exc:
                raise RegistryError(
                    f"transform {self.name!r} (package {self.package!r}) cannot be loaded: "
                    f"{exc}. Install the extra it needs, e.g. pip install 'augkit[all]'"
                ) from exc
            except AttributeError as exc:
                raise RegistryError(
                    f"transform {self.name!r}: {self.target!r} names no class in its module "
                    f"(package {self.package!r})"
                ) from exc
        return self.cls


_entries: dict[str, Entry] | None = None


def _add(table: dict[str, Entry], entry: Entry) -> None:
    old = table.get(entry.name)
    if old is not None and old.target != entry.target:
        raise RegistryError(
            f"transform name {entry.name!r} is registered twice: by package {old.package!r} "
            f"({old.target}) and by package {entry.package!r} ({entry.target}); "
            "a third-party plugin should namespace its names as 'package.name'"
        )
    table[entry.name] = entry


def _entry_from_manifest(name: str, spec: Any, package: str) -> Entry:
    if isinstance(spec, str):
        return Entry(name, spec, package)
    if isinstance(spec, dict) and isinstance(spec.get("target"), str):
        return Entry(name, spec["target"], package, tuple(spec.get("kinds", ())))
    if isinstance(spec, type):
        return Entry(name, f"{spec.__module__}:{spec.__qualname__}", package,
                     tuple(getattr(spec, "kinds", ())), cls=spec)
    raise RegistryError(
        f"package {package!r} registers {name!r} as {spec!r}; allowed: 'module:Class', "
        "a dict with 'target' (and optional 'kinds'), or a Transform class"
    )


def _discover() -> dict[str, Entry]:
    table: dict[str, Entry] = {}
    for name, spec in _BUILTINS.items():
        _add(table, _entry_from_manifest(name, spec, "augkit"))
    for ep in sorted(entry_points(group=GROUP), key=lambda e: (e.value, e.name)):
        package = ep.dist.name if ep.dist is not None else ep.value.split(".")[0]
        try:
            manifest = ep.load()
        except Exception as exc:  # a broken third-party plugin must not break augkit
            warnings.warn(
                f"augkit plugin {ep.name!r} of package {package!r} failed to load: {exc}",
                stacklevel=3,
            )
            continue
        if not isinstance(manifest, dict):
            raise RegistryError(
                f"entry point {ep.name!r} of package {package!r} must name a dict of "
                f"transforms, got {type(manifest).__name__}"
            )
        for name, spec in manifest.items():
            _add(table, _entry_from_manifest(name, spec, package))
    return table


def entries() -> dict[str, Entry]:
    """Every registered name, discovered once per process (``refresh()`` looks again)."""
    global _entries
    if _entries is None:
        _entries = _discover()
    return _entries


def refresh() -> None:
    """Forget what was discovered: the next look-up reads the entry points again."""
    global _entries
    _entries = None
    importlib.invalidate_caches()


def register(name: str | None = None, *, package: str = "__main__"):
    """Class decorator registering a Transform under ``name`` (default: its ``name``)."""

    def wrap(cls: type) -> type:
        key = name or getattr(cls, "name", "") or cls.__name__
        if not getattr(cls, "name", ""):
            cls.name = key
        _add(entries(), Entry(key, f"{cls.__module__}:{cls.__qualname__}", package,
                              tuple(getattr(cls, "kinds", ())), cls=cls))
        return cls

    return wrap


def unknown_name_message(name: str) -> str:
    names = list(entries())
    short = name.rsplit(".", 1)[-1]
    same_short = [k for k in names if k.rsplit(".", 1)[-1] == short]
    hint = did_you_mean(name, names, n=3, cutoff=0.5, also=same_short)
    return f"unknown transform {name!r}{hint}; allowed: a registered name (`augkit list`)"


def get(name: str) -> type[Transform]:
    """The class registered as ``name`` (imports its plugin on first use)."""
    table = entries()
    if name not in table:
        raise RegistryError(unknown_name_message(name))
    return table[name].load()


def make(name: str, **params: Any) -> Transform:
    """Build the transform registered as ``name`` with ``params``."""
    return get(name)(**params)


def list_transforms(kind: str | None = None) -> list[str]:
    """Registered names, sorted; ``kind`` ("graph", "image", "table") keeps those accepting it.

    Uses the manifests' declared kinds, so no plugin module is imported.
    """
    table = entries()
    if kind is None:
        return sorted(table)
    out = []
    for name, entry in table.items():
        kinds = entry.kinds or tuple(getattr(entry.load(), "kinds", ()))
        if kind in kinds or "any" in kinds:
            out.append(name)
    return sorted(out)
