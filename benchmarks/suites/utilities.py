"""Utilities suite: scalers beside scikit-learn, and the diffusion forward process beside the
plain torch expression, with the memory-copy floor.

Sizes: scalers on 1e6 x 64 (quick: 2e4 x 64) float64 numpy (float32 on the torch path);
q_sample on a 256x3x224x224 float32 batch (quick: 8x3x32x32), one t per image.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from augkit.benchmarks.case import Anchor, Case
from augkit.benchmarks.floor import copy_floor

SUITE = "utilities"


def _rows(quick: bool) -> tuple[int, int]:
    return (20_000, 64) if quick else (1_000_000, 64)


def _table(quick: bool, dtype: Any = np.float64) -> dict[str, Any]:
    n, f = _rows(quick)
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((n, f), dtype=np.float64) * 3 + 1).astype(dtype)
    return {"X": X}


def _sk(name: str) -> Any:
    from sklearn import preprocessing

    return getattr(preprocessing, name)


def _scaler_cases(quick: bool, device: str) -> Iterable[Case]:
    n, f = _rows(quick)
    for est in ("StandardScaler", "MinMaxScaler"):
        transform = "standardize" if est == "StandardScaler" else "minmax_scale"

        def run_numpy(state: dict[str, Any], est: str = est) -> Any:
            import augkit.scaling

            return getattr(augkit.scaling, est)().fit_transform(state["X"])

        if device == "cpu":
            yield Case(
                suite=SUITE, name=f"{est}/numpy fit+transform", transforms=(transform,),
                size=n, size_unit="rows", items=n, unit="rows/s",
                setup=lambda quick=quick: _table(quick),
                run=run_numpy,
                anchors=[Anchor(f"scikit-learn {est}.fit_transform",
                                lambda s, est=est: _sk(est)().fit_transform(s["X"]),
                                requires=("sklearn",), goal_ratio=1.0)],
                floor=copy_floor(lambda s: s["X"]),
                requires=("sklearn",),
                note=f"{n}x{f} float64; the floor copies X once",
                goal=">= 1x scikit-learn on numpy",
                min_rounds=15,
            )

        def setup_torch(quick: bool = quick) -> dict[str, Any]:
            X = _table(quick, np.float32)["X"]
            return {"X": X, "T": torch.from_numpy(X).to(device)}

        def run_torch(state: dict[str, Any], est: str = est) -> Any:
            import augkit.scaling

            return getattr(augkit.scaling, est)().fit_transform(state["T"])

        yield Case(
            suite=SUITE, name=f"{est}/torch fit+transform", transforms=(transform,),
            size=n, size_unit="rows", items=n, unit="rows/s",
            setup=setup_torch, run=run_torch, device=device,
            anchors=[Anchor(f"scikit-learn {est} on the same float32 data (numpy)",
                            lambda s, est=est: _sk(est)().fit_transform(s["X"]),
                            requires=("sklearn",))],
            floor=copy_floor(lambda s: s["T"]),
            requires=("sklearn",),
            note=f"{n}x{f} float32 torch tensor on {device}; output stays there",
        )

        def run_transform(state: dict[str, Any], transform: str = transform) -> Any:
            import augkit

            t = augkit.make(transform, fit_on="all").fit((state["T"], None))
            return t((state["T"], None))

        yield Case(
            suite=SUITE, name=f"{transform}/table fit+apply", transforms=(transform,),
            size=n, size_unit="rows", items=n, unit="rows/s",
            setup=setup_torch, run=run_transform, device=device,
            anchors=[Anchor(f"scikit-learn {est} on the same float32 data (numpy)",
                            lambda s, est=est: _sk(est)().fit_transform(s["X"]),
                            requires=("sklearn",))],
            floor=copy_floor(lambda s: s["T"]),
            note="the registered transform on an (X, y) table: fit(fit_on=all), then apply",
        )


def _images(quick: bool, device: str) -> dict[str, Any]:
    n, side = (8, 32) if quick else (256, 224)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 3, side, side, generator=g).mul_(2).sub_(1).to(device)
    noise = torch.randn(n, 3, side, side, generator=g).to(device)
    t = torch.randint(0, 1000, (n,), generator=g)
    from augkit.diffusion import alphas_cumprod

    abar = alphas_cumprod("linear")
    # The reference's tables, precomputed once as a training loop would keep them.
    sa = abar.sqrt().float().to(device)
    sb = (1 - abar).sqrt().float().to(device)
    return {"x": x, "noise": noise, "t": t, "t_dev": t.to(device), "sa": sa, "sb": sb,
            "gen": torch.Generator(device=device)}


def _plain_q_sample(s: dict[str, Any]) -> Any:
    t = s["t_dev"]
    return s["sa"][t].view(-1, 1, 1, 1) * s["x"] + s["sb"][t].view(-1, 1, 1, 1) * s["noise"]


def _plain_with_noise(s: dict[str, Any]) -> Any:
    s["gen"].manual_seed(0)
    t = torch.randint(0, 1000, (s["x"].shape[0],), generator=torch.Generator().manual_seed(0))
    t = t.to(s["x"].device)
    eps = torch.randn(s["x"].shape, generator=s["gen"], device=s["x"].device)
    return s["sa"][t].view(-1, 1, 1, 1) * s["x"] + s["sb"][t].view(-1, 1, 1, 1) * eps


def _diffusion_cases(quick: bool, device: str) -> Iterable[Case]:
    n, side = (8, 32) if quick else (256, 224)

    def run_q(s: dict[str, Any]) -> Any:
        from augkit.diffusion import q_sample

        return q_sample(s["x"], s["t"], noise=s["noise"])

    yield Case(
        suite=SUITE, name="q_sample/given noise", transforms=(),
        size=n, size_unit="images", items=n, unit="images/s",
        setup=lambda: _images(quick, device), run=run_q, device=device,
        anchors=[Anchor("plain torch sqrt(abar[t]) * x + sqrt(1 - abar[t]) * eps",
                        _plain_q_sample)],
        floor=copy_floor(lambda s: s["x"]),
        note=f"{n}x3x{side}x{side} float32, one t per image, noise given",
    )

    def run_transform(s: dict[str, Any]) -> Any:
        import augkit

        if "t_diff" not in s:
            s["t_diff"] = augkit.make("diffusion_noise")
        return s["t_diff"](s["x"], generator=0)

    yield Case(
        suite=SUITE, name="diffusion_noise/images", transforms=("diffusion_noise",),
        size=n, size_unit="images", items=n, unit="images/s",
        setup=lambda: _images(quick, device), run=run_transform, device=device,
        anchors=[Anchor("plain torch randn + sqrt(abar[t]) * x + sqrt(1 - abar[t]) * eps",
                        _plain_with_noise)],
        floor=copy_floor(lambda s: s["x"]),
        note="the registered transform: draws t per image and eps (randn dominates)",
    )


def cases(quick: bool, device: str) -> Iterable[Case]:
    yield from _scaler_cases(quick, device)
    yield from _diffusion_cases(quick, device)
