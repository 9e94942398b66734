"""Diffusion forward noise: schedules against their closed forms and PyG, q_sample statistics,
float16 safety, and the diffusion_noise transform."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import augkit
from augkit.diffusion import (
    SCHEDULES,
    DiffusionNoise,
    alphas_cumprod,
    beta_schedule,
    q_sample,
    snr,
)
from augkit.errors import InputError, ParamError

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_linear_endpoints_and_dtype():
    b = beta_schedule("linear")
    assert b.dtype == torch.float64 and b.shape == (1000,)
    assert b[0].item() == 1e-4 and b[-1].item() == 0.02
    s = beta_schedule("scaled_linear", T=10, beta_start=1e-4, beta_end=0.04)
    assert s[0].item() == pytest.approx(1e-4, rel=1e-12) and s[-1].item() == pytest.approx(0.04)
    g = beta_schedule("sigmoid", T=1000)
    expect = 1 / (1 + math.exp(6)) * (0.02 - 1e-4) + 1e-4
    assert g[0].item() == pytest.approx(expect, rel=1e-12)


@pytest.mark.parametrize("ours,theirs", [("linear", "linear"), ("scaled_linear", "quadratic"),
                                         ("sigmoid", "sigmoid")])
def test_matches_pyg_schedules(ours, theirs):
    ns = pytest.importorskip("torch_geometric.utils.noise_scheduler")
    want = ns.get_diffusion_beta_schedule(theirs, 1e-4, 0.02, 1000, dtype=torch.float64)
    np.testing.assert_allclose(beta_schedule(ours).numpy(), want.numpy(), rtol=1e-12)


def test_cosine_matches_formula():
    T, s = 1000, 0.008

    def f(t):
        return math.cos(((t / T + s) / (1 + s)) * math.pi / 2) ** 2

    betas = beta_schedule("cosine", T)
    abar = alphas_cumprod(betas)
    assert float(betas.max()) <= 0.999 and betas[-1].item() == 0.999  # clipped at the end
    unclipped = int((betas < 0.999).sum())
    want = np.array([f(t + 1) / f(0) for t in range(unclipped)])
    np.testing.assert_allclose(abar[:unclipped].numpy(), want, rtol=1e-10)
    np.testing.assert_allclose(alphas_cumprod("cosine").numpy(), abar.numpy())


@pytest.mark.parametrize("kind", SCHEDULES)
def test_abar_strictly_decreasing_in_unit_interval(kind):
    abar = alphas_cumprod(kind)
    assert bool((abar > 0).all() and (abar < 1).all())
    assert bool((abar[1:] < abar[:-1]).all())
    r = snr(torch.arange(1000), schedule=kind)
    np.testing.assert_allclose(r.numpy(), (abar / (1 - abar)).numpy())
    assert bool((r[1:] < r[:-1]).all())


def test_q_sample_mean_and_variance():
    n = 200_000
    x0 = torch.full((n, 2), 1.5)
    t = torch.tensor([10] * (n // 2) + [700] * (n // 2))
    g = torch.Generator().manual_seed(0)
    xt = q_sample(x0, t, schedule="cosine", generator=g).double()
    abar = alphas_cumprod("cosine")
    for half, step in ((slice(0, n // 2), 10), (slice(n // 2, n), 700)):
        a = abar[step].item()
        sample = xt[half]
        m, v = sample.mean().item(), sample.var().item()
        count = sample.numel()
        # mean within 6 standard errors, variance within 6 of its standard error
        assert abs(m - math.sqrt(a) * 1.5) < 6 * math.sqrt((1 - a) / count)
        assert abs(v - (1 - a)) < 6 * (1 - a) * math.sqrt(2 / count)


def test_q_sample_closed_form_and_schedule_table():
    x0 = torch.randn(4, 3, 5, 5, generator=torch.Generator().manual_seed(1))
    eps = torch.randn(4, 3, 5, 5, generator=torch.Generator().manual_seed(2))
    t = torch.tensor([0, 10, 500, 999])
    abar = alphas_cumprod("linear")
    want = abar[t].sqrt().view(-1, 1, 1, 1) * x0.double() + (1 - abar[t]).sqrt().view(
        -1, 1, 1, 1) * eps.double()
    x0_copy = x0.clone()
    out = q_sample(x0, t, noise=eps)
    assert out.dtype == torch.float32 and torch.equal(x0, x0_copy)
    np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    assert torch.equal(q_sample(x0, t, schedule=abar, noise=eps), out)
    assert torch.equal(q_sample(x0, 5, noise=eps), q_sample(x0, torch.full((4,), 5), noise=eps))
    with pytest.raises(InputError, match="999"):
        q_sample(x0, 1000)
    with pytest.raises(InputError, match="one per sample"):
        q_sample(x0, torch.tensor([1, 2]))
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert torch.equal(q_sample(x0, t, generator=g1), q_sample(x0, t, generator=g2))


def test_float16_keeps_small_t_noise():
    x0 = torch.linspace(-1, 1, 4096).to(torch.float16)
    eps = torch.randn(4096, generator=torch.Generator().manual_seed(0)).to(torch.float16)
    # The trap: alpha_bar_0 = 0.9999 is 1.0 in float16, so a float16 schedule adds no noise.
    half_abar = alphas_cumprod("linear").to(torch.float16)
    assert half_abar[0].item() == 1.0 and (1 - half_abar[0]).sqrt().item() == 0.0
    out = q_sample(x0, 0, noise=eps)
    assert out.dtype == torch.float16
    want = (math.sqrt(1 - 1e-4) * x0.double() + math.sqrt(1e-4) * eps.double())
    assert (out != x0).float().mean() > 0.5
    np.testing.assert_allclose(out.double().numpy(), want.numpy(), atol=1e-3)
    diff = (out.double() - math.sqrt(1 - 1e-4) * x0.double())
    assert abs(diff.std().item() - 0.01 * eps.double().std().item()) < 2e-3


# ---- the transform ---------------------------------------------------------------------------


def test_same_seed_same_output_and_replay():
    x = torch.rand(6, 3, 8, 8)
    x_copy = x.clone()
    t = DiffusionNoise(t=[0, 999], schedule="cosine")
    a, params = t(x, generator=7, return_params=True)
    assert torch.equal(a, t(x, generator=7)) and torch.equal(a, t.replay(x, params))
    assert not torch.equal(a, t(x, generator=8))
    assert torch.equal(x, x_copy)


def test_per_sample_t_in_a_batch_and_return_noise():
    x = torch.rand(64, 3, 4, 4)
    t = DiffusionNoise(t=[0, 999], return_noise=True, schedule="sigmoid")
    out = t(x, generator=0)
    ts, eps = out["t"], out["noise"]
    assert ts.shape == (64,) and len(set(ts.tolist())) > 10
    abar = alphas_cumprod("sigmoid")
    want = abar[ts].sqrt().view(-1, 1, 1, 1) * x.double() + (1 - abar[ts]).sqrt().view(
        -1, 1, 1, 1) * eps.double()
    np.testing.assert_allclose(out["data"].numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    single = DiffusionNoise(t=300, return_noise=True)(x[0], generator=1)
    assert single["t"].tolist() == [300]


def test_graph_batch_per_graph_t_and_edge_weight():
    pytest.importorskip("torch_geometric")
    from torch_geometric.data import Batch, Data

    gen = torch.Generator().manual_seed(0)
    graphs = [Data(x=torch.randn(5 + i, 3, generator=gen),
                   edge_index=torch.randint(0, 5 + i, (2, 12), generator=gen),
                   edge_weight=torch.rand(12, generator=gen)) for i in range(4)]
    batch = Batch.from_data_list(graphs)
    x_copy = batch.x.clone()
    out = DiffusionNoise(t=[0, 999], return_noise=True)(batch, generator=3)
    assert out.diffusion_t.shape == (4,) and torch.equal(batch.x, x_copy)
    abar = alphas_cumprod("linear")[out.diffusion_t][batch.batch]
    want = abar.sqrt()[:, None] * batch.x.double() + (1 - abar).sqrt()[:, None] * \
        out.x_noise.double()
    np.testing.assert_allclose(out.x.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    assert len(out.to_data_list()) == 4 and out.to_data_list()[2].diffusion_t.shape == (1,)
    ew = DiffusionNoise(t=[0, 999], target="edge_weight", return_noise=True)(batch, generator=3)
    assert torch.equal(ew.x, batch.x) and ew.edge_weight.shape == (48,)
    eabar = alphas_cumprod("linear")[ew.diffusion_t][batch.batch[batch.edge_index[0]]]
    want = eabar.sqrt() * batch.edge_weight.double() + (1 - eabar).sqrt() * \
        ew.edge_weight_noise.double()
    np.testing.assert_allclose(ew.edge_weight.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


def test_tables_and_errors():
    X = np.random.default_rng(0).normal(size=(10, 3))
    y = np.arange(10)
    Xn, y2 = DiffusionNoise(t=[100, 200])((X, y), generator=0)
    assert isinstance(Xn, np.ndarray) and Xn.dtype == X.dtype and y2 is y
    with pytest.raises(ParamError, match="T - 1"):
        DiffusionNoise(t=[0, 1000])
    with pytest.raises(InputError, match="floating"):
        DiffusionNoise()(torch.zeros(2, 3, 4, 4, dtype=torch.uint8), generator=0)
    with pytest.raises(InputError, match="graph"):
        DiffusionNoise(target="edge_attr")(torch.zeros(2, 3), generator=0)


def test_policy_yaml():
    policy = augkit.load_policy(
        "augkit: 1\nbatch:\n  - diffusion_noise: {t: [0, 99], T: 100, schedule: cosine}\n")
    step = policy.batch[0]
    assert isinstance(step, DiffusionNoise) and step.t_range == (0, 99)
    x = torch.rand(2, 3, 4, 4)
    assert torch.equal(policy.apply_batch(x, generator=0), policy.apply_batch(x, generator=0))


@cuda
@pytest.mark.cuda
def test_cuda_stays_on_device():
    x = torch.rand(8, 3, 16, 16, device="cuda", dtype=torch.float16)
    out = DiffusionNoise(t=[0, 10])(x, generator=0)
    assert out.device == x.device and out.dtype == torch.float16
    assert torch.equal(out, DiffusionNoise(t=[0, 10])(x, generator=0))
    assert bool((out != x).any())
    xt = q_sample(x, torch.zeros(8, dtype=torch.long, device="cuda"),
                  generator=torch.Generator(device="cuda").manual_seed(0))
    assert xt.device == x.device
