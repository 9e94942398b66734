"""augkit's errors: one base class, so a user can catch everything augkit raises on purpose."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any


class AugkitError(Exception):
    """Base class of every error augkit raises on purpose."""


class InputError(AugkitError, ValueError):
    """The data handed to a transform is not of a kind or shape it accepts."""


class ResamplingError(InputError, RuntimeError):
    """The data are valid but the algorithm cannot resample them (e.g. ADASYN when no minority
    sample has a neighbour of another class); also a ``RuntimeError``, as imbalanced-learn
    raises there, so code that catches either keeps working."""


class ParamError(AugkitError, ValueError):
    """A transform parameter is out of range, of the wrong type, unknown or missing.

    When the error is about one parameter, ``param`` names it, ``value`` is what was given
    (None when it is missing) and ``reason`` is the message without the transform's name, so
    the policy loader reports the same words at the parameter's path and line.
    """

    def __init__(self, message: str, *, param: str | None = None, value: Any = None,
                 reason: str | None = None) -> None:
        super().__init__(message)
        self.param = param
        self.value = value
        self.reason = message if reason is None else reason


class RegistryError(AugkitError, LookupError):
    """An unknown transform name, or two packages registering the same name."""


class PluginWarning(UserWarning):
    """A third-party plugin (or one of its names) was skipped; ``augkit.registry.skipped()``
    lists each with its reason."""


class PolicyError(AugkitError, ValueError):
    """A policy (YAML file, text or dict) is malformed.

    The message names the file, the line, the path inside the policy, the bad value and
    what is allowed, e.g. ``policy.yaml:7: sample[1].one_of.transforms[0].node_dropout.p:
    got 1.5; allowed: a number in [0, 1]``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str = "",
        line: int | None = None,
        source: str | None = None,
    ) -> None:
        self.reason = message
        self.path = path
        self.line = line
        self.source = source
        super().__init__(self._format())

    def _format(self) -> str:
        where = self.source or "<policy>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        if self.path:
            where = f"{where}: {self.path}"
        return f"{where}: {self.reason}"


def did_you_mean(name: Any, choices: Iterable[str], *, n: int = 2, cutoff: float = 0.6,
                 also: Iterable[str] = ()) -> str:
    """The hint every "unknown name" error ends with: ``"; did you mean 'a' or 'b'?"`` for
    the ``choices`` nearest ``name`` (then ``also``, further candidates), or ``""``.

    >>> did_you_mean("scal", ["scale", "p"])
    "; did you mean 'scale'?"
    >>> did_you_mean("zzz", ["scale", "p"])
    ''
    """
    near = difflib.get_close_matches(str(name), list(choices), n=n, cutoff=cutoff)
    near += [c for c in also if c not in near]
    near = near[:n]
    return f"; did you mean {' or '.join(repr(c) for c in near)}?" if near else ""


#: The longest value echoed in an error message, in characters; the rest is cut.
MAX_ECHO = 200


def clip(text: str, limit: int = MAX_ECHO) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut (an error echoes what it
    got, and a 5 MB value must not become a 5 MB line).

    >>> clip("x" * 12, 5)
    'xxxxx... (7 more characters)'
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"
