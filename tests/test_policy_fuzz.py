"""A policy-file fuzzer: random YAML documents mixing valid and invalid steps, parameters,
nesting, tags and encodings (bytes that are not UTF-8, byte-order marks). Every outcome is a
Policy or a PolicyError with a line; nothing the caller passed is changed."""

from __future__ import annotations

import copy
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from augkit import Policy, load_policy
from augkit.errors import PolicyError

NAMES = ["edge_dropout", "node_dropout", "gaussian_blur", "mixup", "smote", "views",
         "compose", "one_of", "some_of", "random_apply", "diffusion_noise", "edge_dropot",
         "no.such", ""]
PARAMS = ["p", "alpha", "n", "t", "sigma", "transforms", "weights", "apply_p", "fitted_state"]
SCALARS = st.one_of(
    st.sampled_from(["0.2", "1.5", "-1", ".inf", ".nan", "null", "true", "~", "'x'", "[]",
                     "{}", "[1, 2]", "[2, 1]", "2000", "1e400", "!!python/tuple [1]",
                     "&a 1", "*a", "2020-01-01", "99999999999999999999999"]),
    st.integers(-10, 10**6).map(str),
    st.text("ab\t :-[]{}#'\"!&*\\\xe9", max_size=8),
)
TOP = ["augkit", "seed", "views", "dataset", "sample", "batch", "samples", "<<"]


@st.composite
def step(draw, depth: int = 0) -> list[str]:
    """A step as YAML lines at column 0 (the caller indents)."""
    name = draw(st.sampled_from(NAMES))
    kind = draw(st.integers(0, 3 if depth < 3 else 2))
    if kind == 0:
        return [f"- {name}"]
    if kind == 1:
        return [f"- {name}: {draw(SCALARS)}"]
    if kind == 2:
        pairs = draw(st.lists(st.tuples(st.sampled_from(PARAMS), SCALARS), max_size=3))
        body = ", ".join(f"{k}: {v}" for k, v in pairs)
        return [f"- {name}: {{{body}}}"]
    lines = [f"- {name}:", "    transforms:"]
    for child in draw(st.lists(step(depth + 1), min_size=0, max_size=3)):
        lines += ["      " + line for line in child]
    return lines


@st.composite
def documents(draw) -> str:
    lines = []
    for key in draw(st.lists(st.sampled_from(TOP), max_size=5)):
        if key in ("dataset", "sample", "batch", "samples") and draw(st.booleans()):
            lines.append(f"{key}:")
            for s in draw(st.lists(step(), max_size=4)):
                indent = draw(st.sampled_from(["  ", "  ", "    ", "", " "]))
                lines += [indent + line for line in s]
        else:
            lines.append(f"{key}: {draw(SCALARS)}")
        if draw(st.integers(0, 9)) == 0:
            lines.append(draw(st.sampled_from(["# comment", "---", "...", "%YAML 1.1", "\t"])))
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n"]))


@st.composite
def encoded(draw) -> bytes:
    text = draw(documents())
    how = draw(st.sampled_from(["utf-8", "bom", "latin-1", "utf-16", "junk"]))
    if how == "utf-8":
        return text.encode("utf-8")
    if how == "bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    if how == "latin-1":
        return ("# caf\xe9\n" + text).encode("latin-1", "replace")
    if how == "utf-16":
        return text.encode("utf-16")
    data = bytearray(text.encode("utf-8"))
    for _ in range(draw(st.integers(1, 3))):
        data.insert(draw(st.integers(0, len(data))), draw(st.integers(0x80, 0xFF)))
    return bytes(data)


def _check(source) -> None:
    before = copy.deepcopy(source)
    try:
        result = load_policy(source)
    except PolicyError as exc:
        assert exc.line is not None, str(exc)
        assert str(exc).startswith(f"{exc.source}:{exc.line}"), str(exc)
        assert "allowed" in exc.reason, str(exc)
    else:
        assert isinstance(result, Policy)
    assert source == before


@given(documents())
def test_fuzzed_text_gives_a_policy_or_a_located_policy_error(text):
    _check(text + "\n")


@given(encoded())
def test_fuzzed_bytes_give_a_policy_or_a_located_policy_error(data):
    _check(data)


@pytest.mark.slow
@settings(max_examples=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(documents().map(lambda t: t + "\n"), encoded()))
def test_fuzzed_policies_deep_and_bounded_in_time(source):
    start = time.perf_counter()
    _check(source)
    assert time.perf_counter() - start < 5.0
