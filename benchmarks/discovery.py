"""Find the suites: every module of ``augkit.benchmarks.suites``, plus modules named with
``--suite-module`` (a third party's). A suite module defines ``SUITE`` and
``cases(quick, device)`` (see :mod:`augkit.benchmarks.case`); several modules may share one
``SUITE`` name. A module that fails to import, or whose ``cases()`` raises, is kept with its
error so the report can name it, and the run goes on.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from augkit.benchmarks.case import Case
from augkit.benchmarks.records import describe_error

SUITES = "augkit.benchmarks.suites"


@dataclass
class SuiteModule:
    """One discovered module: its suite name, or why it could not be used."""

    module: str  # short name inside the suites package ("graph") or the import name of an extra
    suite: str | None
    obj: Any = None
    error: str | None = None
    cases: list[Case] = field(default_factory=list)
    elapsed_s: float = 0.0  # timing its cases (setup, warm-up, rounds, memory)
    import_s: float = 0.0  # importing the module (its libraries included)
    cpu_s: float = 0.0  # CPU time of this process while timing its cases (not loader workers)


def suite_modules() -> list[str]:
    """Import names of the modules of the suites package, sorted."""
    pkg = importlib.import_module(SUITES)
    names = [m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_")]
    return [f"{SUITES}.{n}" for n in sorted(names)]


def discover(extra_modules: Sequence[str] = ()) -> list[SuiteModule]:
    """Import every suite module (and ``extra_modules``, e.g. a third party's suite).

    Modules that define no ``SUITE``/``cases`` are left out; a module that fails to import
    is kept with its error so the report can name it.
    """
    found: list[SuiteModule] = []
    for import_name in [*suite_modules(), *extra_modules]:
        short = import_name.removeprefix(SUITES + ".")
        t0 = time.perf_counter()
        try:
            module = importlib.import_module(import_name)
        except Exception as exc:  # an unfinished plugin must not stop the run
            found.append(SuiteModule(short, None, error=f"import failed: {describe_error(exc)}",
                                     import_s=time.perf_counter() - t0))
            continue
        suite, cases = getattr(module, "SUITE", None), getattr(module, "cases", None)
        if isinstance(suite, str) and callable(cases):
            found.append(SuiteModule(short, suite, obj=module,
                                     import_s=time.perf_counter() - t0))
    return found


def select(modules: list[SuiteModule], suites: Sequence[str] | None) -> list[SuiteModule]:
    """The modules of the suites asked for (all without ``suites``); an unknown suite name is
    an AugkitError that lists the known ones. Modules that failed to import stay: they may be
    the suite asked for."""
    if not suites:
        return modules
    known = sorted({m.suite for m in modules if m.suite})
    unknown = [s for s in suites if s not in known]
    if unknown:
        from augkit.errors import AugkitError

        broken = [m.module for m in modules if m.error]
        hint = f" (modules that failed to import: {', '.join(broken)})" if broken else ""
        raise AugkitError(
            f"--suite: got {', '.join(unknown)}; allowed: {', '.join(known) or 'none'}" + hint
        )
    return [m for m in modules if m.suite in suites or m.error]


def collect(modules: Iterable[SuiteModule], quick: bool, device: str) -> None:
    """Call each module's ``cases()``; an exception becomes the module's error."""
    for mod in modules:
        if mod.error is not None:
            continue
        try:
            mod.cases = list(mod.obj.cases(quick=quick, device=device))
        except Exception as exc:  # one broken suite must not stop the others
            mod.error = f"cases() raised {describe_error(exc)}"
            mod.cases = []
