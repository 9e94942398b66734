"""Shared fixtures: toy transforms registered for the core tests, removed afterwards."""

from __future__ import annotations

import os

import pytest
import torch
from hypothesis import settings

from augkit import registry
from augkit.params import Choice, Interval, Number, Param
from augkit.transform import Transform

settings.register_profile("ci", deadline=None, print_blob=True, max_examples=60)
settings.load_profile("ci")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``slow`` tests (the fuzzers' deep runs) run only with AUGKIT_SLOW=1: the default run
    keeps their modest variants, and a time bound never meets a loaded CI machine."""
    if os.environ.get("AUGKIT_SLOW"):
        return
    skip = pytest.mark.skip(reason="slow: run with AUGKIT_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


class AddNoise(Transform):
    """Adds uniform noise in [-scale, scale] to a float tensor (a toy sample transform)."""

    name = "toy.add_noise"
    kinds = ("table",)
    params = {"scale": Param(Number(0.0, 10.0), 1.0, "noise amplitude")}

    def make_params(self, data, generator):
        return {"noise": torch.rand(data.shape, generator=generator) * 2 - 1}

    def apply(self, data, params):
        return data + self.scale * params["noise"].to(data.dtype)


class Shift(Transform):
    """Adds a constant drawn in [lo, hi] (a toy with a range and a choice)."""

    name = "toy.shift"
    kinds = ("table", "image")
    levels = ("sample", "batch")
    params = {
        "amount": Param(Interval(Number(-5.0, 5.0)), (0.0, 1.0), "range of the shift"),
        "mode": Param(Choice("add", "sub"), "add", "add or subtract"),
    }

    def make_params(self, data, generator):
        lo, hi = self.amount
        return {"c": lo + (hi - lo) * float(torch.rand((), generator=generator))}

    def apply(self, data, params):
        return data + params["c"] if self.mode == "add" else data - params["c"]


class Tag(Transform):
    """Appends its id to a list (used to count which container children ran)."""

    name = "toy.tag"
    kinds = ("table",)
    levels = ("sample", "batch", "dataset")
    params = {"id": Param(Number(0, 100, integer=True), 0, "identifier")}

    def apply(self, data, params):
        return [*data, self.id]


class Resample(Transform):
    """A dataset-level toy: duplicates the rows."""

    name = "toy.resample"
    kinds = ("table",)
    levels = ("dataset",)

    def apply(self, data, params):
        X, y = data
        return torch.cat([X, X]), torch.cat([y, y])


TOYS = (AddNoise, Shift, Tag, Resample)


@pytest.fixture
def toys():
    """Registers the toy transforms for one test, then forgets them."""
    registry.refresh()
    for cls in TOYS:
        registry.register(package="tests")(cls)
    yield {cls.name: cls for cls in TOYS}
    registry.refresh()
