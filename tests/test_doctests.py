"""Every docstring example of the installed augkit package runs, and gives what it shows.

Modules are found by walking ``augkit.__path__`` (plugins and benchmarks included), so a module
added or moved is checked without being listed here.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


# pyproject installs plugins/ and benchmarks/ as augkit.plugins and augkit.benchmarks from
# folders of their own (package-dir): an editable install does not put them under
# augkit.__path__, so each root is walked.
ROOTS = ("augkit", "augkit.plugins", "augkit.benchmarks")


def _module_names() -> list[str]:
    names = set(ROOTS)
    for root in ROOTS:
        package = importlib.import_module(root)
        names.update(info.name for info in pkgutil.walk_packages(
            package.__path__, f"{root}.", onerror=lambda name: None))
    return sorted(names)


@pytest.mark.parametrize("name", _module_names())
def test_docstring_examples(name: str) -> None:
    if name == "augkit.__main__":
        pytest.skip("importing augkit.__main__ runs the command line (and exits)")
    try:
        module = importlib.import_module(name)
    except ImportError as exc:  # an optional extra (a backend library) is not installed
        pytest.skip(f"{name} needs {exc.name or exc}, which is not installed")
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    for test in finder.find(module, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
