"""PyG's NeighborLoader, LinkNeighborLoader and HGTLoader sample through pyg-lib or
torch-sparse. ``make test`` installs torch-sparse and sets AUGKIT_REQUIRE_PYG_SAMPLERS, so
there a missing backend fails the test; elsewhere the test is skipped with the reason."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def sampler_backend_missing(err: ImportError) -> NoReturn:
    if os.environ.get("AUGKIT_REQUIRE_PYG_SAMPLERS"):
        pytest.fail(f"PyG's loaders cannot sample ({err}); run `make pyg-samplers`")
    pytest.skip(f"PyG's loaders cannot sample here ({err}); `make pyg-samplers` installs "
                "torch-sparse")
