"""augkit's errors: one base class, so a user can catch everything augkit raises on purpose."""

from __future__ import annotations


class AugkitError(Exception):
    """Base class of every error augkit raises on purpose."""


class InputError(AugkitError, ValueError):
    """The data handed to a transform is not of a kind or shape it accepts."""


class ParamError(AugkitError, ValueError):
    """A transform parameter is out of range, of the wrong type, or unknown."""


class RegistryError(AugkitError, LookupError):
    """An unknown transform name, or two packages registering the same name."""


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
