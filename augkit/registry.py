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
packages may namespace their names as ``package.name``.

One bad plugin never takes augkit down. A plugin whose manifest fails to load (any exception),
is not a dict, or lists an entry that is not a target, and a name registered by two packages,
is skipped with one ``PluginWarning`` naming the package and the name; ``skipped()`` lists
what was skipped and why. When two packages register one name, the name goes to augkit's own
transforms first, then to the package whose distribution name sorts first (alphabetically, so
the outcome never depends on installation order); the others are skipped. A target that turns
out not to be a Transform subclass, or whose module raises on import, is a ``RegistryError``
naming the target when the transform is used. ``register()`` (an explicit call in Python)
still raises on a clash.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, NamedTuple

from augkit.errors import PluginWarning, RegistryError, clip, did_you_mean

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
    levels: tuple[str, ...] = ()  # the stages it may stand in, as the manifest declares them
    cls: type | None = field(default=None, repr=False)

    def load(self) -> type[Transform]:
        if self.cls is None:
            module_name, _, attr = self.target.partition(":")
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                raise RegistryError(
                    f"transform {self.name!r} (package {self.package!r}) cannot be loaded: "
                    f"{exc}. Install the extra it needs, e.g. pip install 'augkit[all]'"
                ) from exc
            except Exception as exc:  # a broken plugin module: say whose, not a raw traceback
                raise RegistryError(
                    f"transform {self.name!r} (package {self.package!r}) cannot be loaded: "
                    f"importing {module_name!r} raised {type(exc).__name__}: {exc}"
                ) from exc
            try:
                cls = getattr(module, attr)
            except AttributeError as exc:
                raise RegistryError(
                    f"transform {self.name!r}: {self.target!r} names no class in its module "
                    f"(package {self.package!r})"
                ) from exc
            _check_transform_class(cls, self)
            self.cls = cls
        return self.cls


def _check_transform_class(cls: Any, entry: Entry) -> None:
    from augkit.transform import Transform

    if not (isinstance(cls, type) and issubclass(cls, Transform)):
        raise RegistryError(
            f"transform {entry.name!r} (package {entry.package!r}): got target "
            f"{entry.target!r}, which is {_short(cls)}; allowed: a subclass of "
            "augkit.transform.Transform"
        )


def _short(value: Any) -> str:
    return clip(repr(value), 60)


class Skipped(NamedTuple):
    """A plugin entry left out of the registry: its package, its name (the transform's, or
    the entry point's when the whole manifest failed) and why."""

    package: str
    name: str
    reason: str


_entries: dict[str, Entry] | None = None
_skipped: list[Skipped] = []
# Each skipped plugin is reported once per process, however often discovery runs again.
_warned: set[Skipped] = set()


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
        return Entry(name, spec["target"], package, tuple(spec.get("kinds", ())),
                     tuple(spec.get("levels", ())))
    if isinstance(spec, type):
        entry = Entry(name, f"{spec.__module__}:{spec.__qualname__}", package,
                      tuple(getattr(spec, "kinds", ())), tuple(getattr(spec, "levels", ())))
        _check_transform_class(spec, entry)
        entry.cls = spec
        return entry
    raise RegistryError(
        f"package {package!r} registers {name!r} as {spec!r}; allowed: 'module:Class', "
        "a dict with 'target' (and optional 'kinds'), or a Transform class"
    )


def _package(ep: Any) -> str:
    return ep.dist.name if ep.dist is not None else ep.value.split(".")[0]


def _skip(records: list[Skipped], package: str, name: str, reason: str) -> None:
    record = Skipped(package, str(name), reason)
    if record not in records:
        records.append(record)
    if record not in _warned:
        _warned.add(record)
        warnings.warn(f"augkit: skipped {record.name!r} of plugin package {package!r}: "
                      f"{reason}", PluginWarning, stacklevel=_outside_augkit())


def _outside_augkit() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside augkit."""
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith("augkit"):
        frame, level = frame.f_back, level + 1
    return level


def _discover() -> tuple[dict[str, Entry], list[Skipped]]:
    table: dict[str, Entry] = {}
    skipped: list[Skipped] = []
    for name, spec in _BUILTINS.items():
        _add(table, _entry_from_manifest(name, spec, "augkit"))
    # augkit's own plugins first, then by distribution name: who keeps a clashing name
    # never depends on the order packages were installed in.
    eps = sorted(entry_points(group=GROUP),
                 key=lambda e: (_package(e) != "augkit", _package(e), e.name, e.value))
    for ep in eps:
        package = _package(ep)
        try:
            manifest = ep.load()
        except Exception as exc:  # a broken third-party plugin must not break augkit
            _skip(skipped, package, ep.name, f"its manifest {ep.value!r} failed to load: "
                  f"{type(exc).__name__}: {exc}")
            continue
        if not isinstance(manifest, dict):
            _skip(skipped, package, ep.name, f"its entry point {ep.value!r} names a "
                  f"{type(manifest).__name__}; allowed: a dict of transforms")
            continue
        for name, spec in manifest.items():
            _add_plugin_entry(table, skipped, name, spec, package)
    return table, skipped


def _add_plugin_entry(table: dict[str, Entry], skipped: list[Skipped], name: Any, spec: Any,
                      package: str) -> None:
    if not isinstance(name, str) or not name:
        _skip(skipped, package, repr(name), "a transform name must be a non-empty string")
        return
    try:
        entry = _entry_from_manifest(name, spec, package)
    except RegistryError as exc:
        _skip(skipped, package, name, str(exc))
        return
    old = table.get(name)
    if old is not None and old.target != entry.target:
        _skip(skipped, package, name,
              f"the name is already registered by package {old.package!r} ({old.target}); "
              "a third-party plugin should namespace its names as 'package.name'")
        return
    table[name] = entry


def entries() -> dict[str, Entry]:
    """Every registered name, discovered once per process (``refresh()`` looks again)."""
    global _entries, _skipped
    if _entries is None:
        _entries, _skipped = _discover()
    return _entries


def skipped() -> list[Skipped]:
    """The plugin entries discovery left out, as ``Skipped(package, name, reason)`` records in
    the order found (a broken manifest, a bad entry, a name another package holds); a
    transform that fails when first loaded by ``list_transforms(kind)`` is added too."""
    entries()
    return list(_skipped)


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
                              tuple(getattr(cls, "kinds", ())),
                              tuple(getattr(cls, "levels", ())), cls=cls))
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
    for name, entry in list(table.items()):
        kinds = entry.kinds
        if not kinds:
            try:
                kinds = tuple(getattr(entry.load(), "kinds", ()))
            except RegistryError as exc:  # one broken plugin leaves the listing to the rest
                _skip(_skipped, entry.package, name, str(exc))
                continue
        if kind in kinds or "any" in kinds:
            out.append(name)
    return sorted(out)
