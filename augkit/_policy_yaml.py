"""Reading a policy: bytes or text -> plain data with the line of every path, within limits.

Loading uses PyYAML's safe event stream and composer only and builds values itself, so it can
refuse what a policy never needs (python tags, anchors and aliases, merge keys, duplicate
keys) and bound the work a file can ask for before anything large is built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from augkit.compose import MAX_VIEWS  # the top-level views: the Views container's bound
from augkit.errors import MAX_ECHO, PolicyError, clip
from augkit.transform import STAGES

#: The largest policy file or text read, in bytes (``load_policy(..., max_bytes=N)`` raises it).
MAX_BYTES = 1 << 20
#: The deepest nesting of YAML lists and mappings (each container step adds about three).
MAX_DEPTH = 96
#: The most transform steps in one policy, containers' children included.
MAX_STEPS = 10_000
#: The largest seed: stream keys are masked to 64 bits, so 2**64 would repeat seed 0.
MAX_SEED = (1 << 64) - 1

ALLOWED_TOP = (
    f"a mapping with keys augkit (format version 1), seed (an integer in [0, 2**64 - 1]), "
    f"views (an integer in [1, {MAX_VIEWS}] or {{policies: [the steps of each view]}}, "
    f"optional) and stages {', '.join(STAGES)} "
    "(each a list of transforms)"
)

_T = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_T + "str", _T + "int", _T + "float", _T + "bool", _T + "null"}
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Limits:
    """What one load may cost; the defaults are the module's constants."""

    max_bytes: int = MAX_BYTES
    max_depth: int = MAX_DEPTH
    max_steps: int = MAX_STEPS


@dataclass
class Located:
    """Plain data from YAML plus the line of every path inside it."""

    value: Any
    lines: dict[str, int] = field(default_factory=dict)
    source: str | None = None

    def line(self, path: str) -> int | None:
        # The nearest enclosing path that has a line.
        while path:
            if path in self.lines:
                return self.lines[path]
            path = parent(path)
        return self.lines.get("")


def parent(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


def join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


_ALLOWED_TAIL = re.compile(r"; allowed[^;]*$")


def clip_message(reason: str, limit: int = MAX_ECHO) -> str:
    """A message whose echoed value is cut: what precedes the final "; allowed ..." part."""
    tail = _ALLOWED_TAIL.search(reason)
    head, rest = (reason[: tail.start()], tail.group()) if tail else (reason, "")
    return clip(head, limit) + clip(rest, 4 * limit)


def check_size(size: int, source: str | None, limits: Limits) -> None:
    if size > limits.max_bytes:
        raise PolicyError(
            f"got {size} bytes of policy; allowed: at most {limits.max_bytes} bytes "
            "(MAX_BYTES; load_policy(..., max_bytes=N) raises it)",
            source=source,
        )


def decode(data: bytes, source: str | None, limits: Limits) -> str:
    """Policy bytes as text: UTF-8, a leading byte-order mark dropped."""
    check_size(len(data), source, limits)
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start:exc.start + 4].hex(" ")
        raise PolicyError(
            f"got bytes that are not UTF-8 ({bad} at byte {exc.start}); allowed: UTF-8 text "
            "(save the file as UTF-8)",
            line=line,
            source=source,
        ) from None


def _fail(msg: str, source: str | None, mark: Any = None, path: str = "") -> PolicyError:
    line = mark.line + 1 if mark is not None else None
    return PolicyError(msg, path=path, line=line, source=source)


def _scan(text: str, source: str | None, limits: Limits) -> None:
    """Refuse, from the event stream and before anything is built, what a policy never
    needs and what would cost unbounded work: several documents, anchors and aliases (an
    alias bomb never expands), nesting deeper than the limit."""
    # Characters bound the bytes of UTF-8 from below: encode only near the limit.
    size = len(text)
    if 4 * size > limits.max_bytes:
        size = len(text.encode("utf-8", "surrogatepass"))
    check_size(size, source, limits)
    documents = depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise _fail("a policy is one YAML document; got several; allowed: one "
                            "(remove the ---)", source, event.start_mark)
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > limits.max_depth:
                raise _fail(
                    f"got lists and mappings nested more than {limits.max_depth} deep; "
                    f"allowed: at most {limits.max_depth} levels (MAX_DEPTH; "
                    "load_policy(..., max_depth=N) raises it)",
                    source, event.start_mark)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _fail("YAML anchors and aliases (&, *) are not allowed in a policy; "
                        "allowed: write each value out", source, event.start_mark)


def _short_tag(tag: str) -> str:
    return clip(tag.replace(_T, "!!"), 60)


def parse_yaml(text: str, source: str | None = None, limits: Limits | None = None) -> Located:
    """Parse policy YAML safely; refuse anchors/aliases, non-plain tags and duplicate keys."""
    limits = limits or Limits()
    try:
        _scan(text, source, limits)
        doc = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or str(exc)
        raise _fail(f"invalid YAML: {clip(problem)}; allowed: YAML text", source,
                    mark) from None
    except yaml.YAMLError as exc:
        raise _fail(f"invalid YAML: {clip(str(exc))}; allowed: YAML text", source) from None
    except RecursionError:
        raise too_deep(source) from None
    if doc is None:
        raise PolicyError(f"the policy is empty; allowed: {ALLOWED_TOP}", line=1, source=source)

    located = Located(None, {}, source)
    constructor = yaml.constructor.SafeConstructor()

    def refuse_tag(node: yaml.Node, path: str, allowed: str) -> PolicyError:
        return _fail(f"the tag {_short_tag(node.tag)} is not allowed; allowed: {allowed}",
                     source, node.start_mark, path)

    def scalar(node: yaml.Node, path: str) -> Any:
        try:
            return constructor.construct_object(node, deep=True)
        except (ValueError, OverflowError) as exc:  # an integer of too many digits
            raise _fail(f"got a value YAML cannot read ({clip(str(exc))}); allowed: plain "
                        "strings, numbers, booleans and null", source, node.start_mark,
                        path) from None

    def build(node: yaml.Node, path: str) -> Any:
        located.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                raise refuse_tag(node, path, "plain strings, numbers, booleans and null")
            return scalar(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _T + "seq":
                raise refuse_tag(node, path, "plain lists")
            return [build(child, join(path, i)) for i, child in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if node.tag != _T + "map":
                raise refuse_tag(node, path, "plain mappings")
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _T + "merge":
                    raise _fail("merge keys (<<) are not allowed; allowed: write each key "
                                "out", source, key_node.start_mark, path)
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SCALAR_TAGS:
                    raise _fail("got a key that is a list, a mapping or tagged; allowed: a "
                                "plain string", source, key_node.start_mark, path)
                key = scalar(key_node, path)
                child_path = join(path, key)
                if key in out:
                    raise _fail(
                        f"duplicate key {clip(repr(key))} (first on line "
                        f"{located.lines[child_path]}); allowed: each key once",
                        source, key_node.start_mark, child_path)
                located.lines[child_path] = key_node.start_mark.line + 1
                out[key] = build(value_node, child_path)
            return out
        raise _fail("unsupported YAML node", source, node.start_mark, path)  # pragma: no cover

    try:
        located.value = build(doc, "")
    except RecursionError:
        raise too_deep(source) from None
    return located


def too_deep(source: str | None) -> PolicyError:
    """A max_depth raised past what Python's recursion limit lets the parser nest."""
    return PolicyError("got nesting deeper than the YAML parser can follow; allowed: a "
                       f"shallower policy (MAX_DEPTH is {MAX_DEPTH})", source=source)
