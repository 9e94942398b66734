"""The diffusion forward process (DDPM): beta schedules, ``alphas_cumprod``, ``q_sample`` and the
``diffusion_noise`` transform.

``alpha_bar_t = prod_{s<=t} (1 - beta_s)`` and ``x_t = sqrt(alpha_bar_t) x_0 +
sqrt(1 - alpha_bar_t) eps``, with timesteps ``t = 0 .. T-1`` (diffusers' convention: ``t = 0``
already adds the first step's noise). Schedules are computed in float64 and cast only when
applied; coefficients are applied in at least float32 and the result cast to the input's dtype
at the end, so a float16 input keeps its small-``t`` noise (float16 rounds ``alpha_bar`` to 1
there: diffusers PR #3005).

Schedules (diffusers' and improved DDPM's closed forms):

- ``linear``: ``linspace(beta_start, beta_end, T)`` (1e-4 .. 0.02 for T = 1000);
- ``scaled_linear``: ``linspace(sqrt(beta_start), sqrt(beta_end), T) ** 2`` (PyG: quadratic);
- ``cosine``: ``beta_t = min(1 - f(t + 1) / f(t), 0.999)``, ``f(t) = cos(((t / T + s) / (1 + s))
  * pi / 2) ** 2``, ``s = 0.008`` (Nichol & Dhariwal 2021);
- ``sigmoid``: ``sigmoid(linspace(-6, 6, T)) * (beta_end - beta_start) + beta_start``.
"""

from __future__ import annotations

import copy
import functools
import math
import sys
from typing import Any

import numpy as np
import torch

from augkit.errors import InputError, ParamError
from augkit.params import Boolean, Choice, Integer, Interval, Nullable, Number, Param
from augkit.random import derive_seed, draw_seed, torch_generator, type_seed
from augkit.transform import Transform

__all__ = [
    "SCHEDULES",
    "beta_schedule",
    "alphas_cumprod",
    "q_sample",
    "snr",
    "DiffusionNoise",
]

SCHEDULES = ("linear", "scaled_linear", "cosine", "sigmoid")
# Off the CPU the noise comes from a device generator seeded with (seed, _DEVICE_NOISE): the
# CPU generator of ``seed`` already drew the timesteps.
_DEVICE_NOISE = 1
# Graph g of a Batch of HeteroData draws with derive_seed(seed, _HETERO_GRAPH, g).
_HETERO_GRAPH = 0x4E7B


def beta_schedule(
    kind: str,
    T: int = 1000,
    beta_start: float = 1e-4,
    beta_end: float = 0.02,
    s: float = 0.008,
    max_beta: float = 0.999,
) -> torch.Tensor:
    """The ``T`` betas of schedule ``kind`` as a float64 CPU tensor (see the module text).

    >>> b = beta_schedule("linear")
    >>> float(b[0]), float(b[-1]), b.dtype
    (0.0001, 0.02, torch.float64)
    """
    if not isinstance(T, int) or isinstance(T, bool) or T < 1:
        raise ParamError(f"beta_schedule: T: got {T!r}; allowed: an integer >= 1")
    f64 = torch.float64
    if kind == "linear":
        return torch.linspace(beta_start, beta_end, T, dtype=f64)
    if kind == "scaled_linear":
        return torch.linspace(beta_start**0.5, beta_end**0.5, T, dtype=f64) ** 2
    if kind == "sigmoid":
        return torch.linspace(-6, 6, T, dtype=f64).sigmoid() * (beta_end - beta_start) + beta_start
    if kind == "cosine":
        steps = torch.arange(T + 1, dtype=f64) / T
        f = torch.cos((steps + s) / (1 + s) * (math.pi / 2)) ** 2
        return (1 - f[1:] / f[:-1]).clamp(max=max_beta)
    raise ParamError(f"beta_schedule: got kind {kind!r}; allowed: one of {', '.join(SCHEDULES)}")


@functools.lru_cache(maxsize=32)
def _cached_abar(kind: str, T: int, beta_start: float, beta_end: float) -> torch.Tensor:
    return torch.cumprod(1 - beta_schedule(kind, T, beta_start, beta_end), 0)


def alphas_cumprod(
    betas: str | torch.Tensor | np.ndarray,
    T: int = 1000,
    beta_start: float = 1e-4,
    beta_end: float = 0.02,
) -> torch.Tensor:
    """``alpha_bar_t = prod_{s<=t} (1 - beta_s)`` in float64, from betas or a schedule name."""
    if isinstance(betas, str):
        return _cached_abar(betas, T, float(beta_start), float(beta_end)).clone()
    b = torch.as_tensor(betas).to(torch.float64)
    if b.dim() != 1 or bool(((b <= 0) | (b >= 1)).any()):
        raise ParamError("alphas_cumprod: betas must be a 1-D sequence of numbers in (0, 1)")
    return torch.cumprod(1 - b, 0)


def _abar_table(schedule: Any, T: int, beta_start: float, beta_end: float) -> torch.Tensor:
    """alpha_bar as a float64 CPU tensor: from a schedule name or a precomputed table."""
    if isinstance(schedule, str):
        return _cached_abar(schedule, T, float(beta_start), float(beta_end))
    abar = torch.as_tensor(schedule).detach().to("cpu", torch.float64)
    if abar.dim() != 1 or abar.numel() == 0 or bool(((abar <= 0) | (abar > 1)).any()):
        raise ParamError(
            "schedule: a precomputed alphas_cumprod must be a 1-D tensor of values in (0, 1]"
        )
    return abar


def _timesteps(t: Any, n_steps: int) -> torch.Tensor:
    tt = torch.as_tensor(t).detach().to("cpu")
    if tt.is_floating_point() or tt.dtype == torch.bool or tt.dim() > 1:
        raise InputError(f"t: got {t!r}; allowed: an integer or a 1-D integer tensor")
    tt = tt.long()
    if tt.numel() and (int(tt.min()) < 0 or int(tt.max()) >= n_steps):
        raise InputError(f"t: got values in [{int(tt.min())}, {int(tt.max())}]; allowed: "
                         f"integers in [0, {n_steps - 1}]")
    return tt


def _compute_dtype(x: torch.Tensor) -> torch.dtype:
    # float16/bfloat16 are applied in float32: their own rounding would erase small-t noise.
    return x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32


def _noise_like(x: torch.Tensor, dtype: torch.dtype, generator: torch.Generator | None
                ) -> torch.Tensor:
    if generator is None or generator.device == x.device:
        return torch.randn(x.shape, generator=generator, dtype=dtype, device=x.device)
    return torch.randn(x.shape, generator=generator, dtype=dtype,
                       device=generator.device).to(x.device)


def _mix(x0: torch.Tensor, a: torch.Tensor, b: torch.Tensor, noise: torch.Tensor
         ) -> torch.Tensor:
    """a * x0 + b * noise in the compute dtype (a, b broadcastable), cast to x0's dtype."""
    cdt = a.dtype
    x = x0 if x0.dtype == cdt else x0.to(cdt)
    eps = noise if noise.dtype == cdt else noise.to(cdt)
    out = torch.mul(x, a)
    out.addcmul_(eps, b)
    return out if out.dtype == x0.dtype else out.to(x0.dtype)


def q_sample(
    x0: torch.Tensor,
    t: int | torch.Tensor | Any,
    *,
    schedule: str | torch.Tensor = "linear",
    T: int = 1000,
    noise: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    beta_start: float = 1e-4,
    beta_end: float = 0.02,
) -> torch.Tensor:
    """Sample ``x_t ~ q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I)``.

    ``t`` is one timestep or one per sample (a 1-D tensor of length ``x0.shape[0]``, broadcast
    over the trailing dimensions). ``schedule`` is a schedule name or a precomputed
    ``alphas_cumprod``. ``noise`` (same shape as ``x0``) is drawn from ``generator`` on x0's
    device when not given. The result has x0's dtype and device; x0 is not changed.

    >>> x = torch.ones(2, 3)
    >>> xt = q_sample(x, 0, noise=torch.zeros(2, 3))  # no noise: sqrt(abar_0) * x0, float32
    >>> round(xt[0, 0].item(), 6), round((1 - 1e-4) ** 0.5, 6)
    (0.99995, 0.99995)
    """
    if not isinstance(x0, torch.Tensor) or not x0.is_floating_point():
        raise InputError(f"q_sample: x0 must be a floating-point tensor; got "
                         f"{getattr(x0, 'dtype', type(x0).__name__)}")
    abar = _abar_table(schedule, T, beta_start, beta_end)
    tt = _timesteps(t, abar.numel())
    if tt.dim() == 1 and (x0.dim() == 0 or tt.numel() != x0.shape[0]):
        raise InputError(f"q_sample: got {tt.numel()} timesteps for x0 of shape "
                         f"{tuple(x0.shape)}; allowed: one, or one per sample (x0.shape[0])")
    if noise is not None and noise.shape != x0.shape:
        raise InputError(f"q_sample: noise has shape {tuple(noise.shape)}; allowed: the shape "
                         f"of x0 {tuple(x0.shape)}")
    cdt = _compute_dtype(x0)
    ab = abar[tt]
    a, b = ab.sqrt(), (1 - ab).sqrt()  # float64, then cast once
    if tt.dim() == 1:
        shape = (-1,) + (1,) * (x0.dim() - 1)
        a, b = a.view(shape), b.view(shape)
    a = a.to(device=x0.device, dtype=cdt)
    b = b.to(device=x0.device, dtype=cdt)
    eps = _noise_like(x0, cdt, generator) if noise is None else noise.to(x0.device)
    return _mix(x0, a, b, eps)


def snr(
    t: int | torch.Tensor | Any,
    *,
    schedule: str | torch.Tensor = "linear",
    T: int = 1000,
    beta_start: float = 1e-4,
    beta_end: float = 0.02,
) -> torch.Tensor:
    """Signal-to-noise ratio ``abar_t / (1 - abar_t)`` in float64."""
    abar = _abar_table(schedule, T, beta_start, beta_end)
    ab = abar[_timesteps(t, abar.numel())]
    return ab / (1 - ab)


# ---- the transform --------------------------------------------------------------------------

_TARGETS = ("auto", "image", "x", "edge_weight", "edge_attr")


class DiffusionNoise(Transform):
    """Forward-diffuse data to a random timestep: ``x_t = sqrt(abar_t) x + sqrt(1 - abar_t) eps``.

    One ``t`` per sample, drawn uniformly from ``t`` (an integer, or ``[lo, hi]`` inclusive;
    default ``[0, T - 1]``): per image of an ``NCHW`` batch (a ``CHW`` tensor is one image), per
    row of a table ``(X, y)`` or 2-D tensor, per graph of a PyG ``Batch`` (every node or edge of
    a graph shares its graph's ``t``). ``target`` picks what is noised: ``auto`` is the tensor
    itself, a table's X, or a graph's ``x``; ``x``, ``edge_weight`` and ``edge_attr`` name a
    graph attribute; ``image`` insists on a ``CHW``/``NCHW`` tensor.

    On a PyG ``HeteroData`` the target lives per type: ``x`` of every node type (``auto``,
    ``x``) or the attribute of every edge type (``edge_weight``, ``edge_attr``) that has it;
    the graph draws one ``t`` and every type its own noise (``augkit.random.type_seed``); a
    Batch of HeteroData goes graph by graph. With ``return_noise`` the graph gets
    ``diffusion_t`` and every noised store ``<target>_noise``.

    Return form: the noised data, of the input's kind. With ``return_noise: true``, for the
    denoising objective: a graph gets two more attributes, ``diffusion_t`` (one per graph,
    ``[num_graphs]``, so it batches like a graph label) and ``<target>_noise`` (eps, shaped like
    the target, so it follows node and edge operations); a tensor or table gives the dict
    ``{"data": noised data, "t": LongTensor [samples], "noise": eps}``.

    Noise is drawn on the data's device from a generator seeded by the drawn ``seed``: the same
    seed gives the same output on one device (CPU and CUDA streams differ).
    """

    name = "diffusion_noise"
    kinds = ("image", "graph", "table")
    levels = ("sample", "batch")
    counter_draws = True
    params = {
        "t": Param(
            Nullable(Interval(Number(0, integer=True))),
            None,
            "timestep, or [lo, hi] to draw one per sample uniformly (inclusive); null: "
            "[0, T - 1]",
        ),
        "schedule": Param(Choice(*SCHEDULES), "linear", "beta schedule"),
        "T": Param(Integer(1, 100_000), 1000, "number of diffusion steps"),
        "beta_start": Param(Number(0.0, 1.0, low_open=True, high_open=True), 1e-4,
                            "first beta (linear, scaled_linear, sigmoid)"),
        "beta_end": Param(Number(0.0, 1.0, low_open=True, high_open=True), 0.02,
                          "last beta (linear, scaled_linear, sigmoid)"),
        "target": Param(Choice(*_TARGETS), "auto", "what to noise (see the class text)"),
        "return_noise": Param(Boolean(), False, "also return t and eps (see the class text)"),
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if self.t is not None and self.t[1] >= self.T:
            raise ParamError(f"{self.label()}.t: got {params['t']!r}; allowed: timesteps in "
                             f"[0, T - 1] = [0, {self.T - 1}]")

    @property
    def t_range(self) -> tuple[int, int]:
        return tuple(self.t) if self.t is not None else (0, self.T - 1)  # type: ignore[return-value]

    # -- what to noise --

    def _locate(self, data: Any) -> tuple[str, torch.Tensor | np.ndarray, Any]:
        """(kind, the tensor to noise, graph or None)."""
        if isinstance(data, torch.Tensor | np.ndarray):
            if self.target in ("x", "edge_weight", "edge_attr"):
                raise InputError(f"{self.label()}: target={self.target} needs a graph; got a "
                                 f"{type(data).__name__}")
            if self.target == "image" and data.ndim not in (3, 4):
                raise InputError(f"{self.label()}: target=image needs a CHW or NCHW tensor; "
                                 f"got shape {tuple(data.shape)}")
            return ("image" if data.ndim in (3, 4) else "table"), data, None
        if isinstance(data, tuple | list) and data and isinstance(
            data[0], torch.Tensor | np.ndarray
        ):
            if self.target not in ("auto",):
                raise InputError(f"{self.label()}: target={self.target} does not apply to an "
                                 "(X, y) table; allowed: auto")
            return "table", data[0], None
        key = "x" if self.target in ("auto", "image") else self.target
        if self.target == "image":
            raise InputError(f"{self.label()}: target=image needs a tensor; got "
                             f"{type(data).__name__}")
        if _is_hetero(data):
            return "hetero", self._hetero_targets(data), data
        value = getattr(data, key, None)
        if not isinstance(value, torch.Tensor):
            raise InputError(
                f"{self.label()}: got {type(data).__name__} without a tensor {key!r}; allowed: "
                "an image tensor (CHW/NCHW), an (X, y) table, or a graph with that attribute"
            )
        return "graph", value, data

    def _hetero_targets(self, data: Any) -> list[tuple[Any, str, torch.Tensor]]:
        """``(store key, type name, value)`` of every type of a HeteroData with the target;
        an InputError when none has it, or one is not floating."""
        key = self._graph_key()
        if key == "x":
            stores = [(nt, nt) for nt in data.node_types]
        else:
            stores = [(et, "__".join(et)) for et in data.edge_types]
        out = [(k, name, data[k][key]) for k, name in stores
               if isinstance(data[k].get(key), torch.Tensor)]
        if not out:
            where = "node type" if key == "x" else "edge type"
            raise InputError(f"{self.label()}: no {where} of the {type(data).__name__} has a "
                             f"tensor {key!r}; allowed: a HeteroData whose types carry it")
        for _, name, value in out:
            if not value.is_floating_point():
                raise InputError(f"{self.label()}: {key} of type {name!r} is {value.dtype}; "
                                 "allowed: floating-point values")
        return out

    def _graph_key(self) -> str:
        return "x" if self.target == "auto" else self.target

    def check_input(self, data: Any) -> None:
        kind, value, _ = self._locate(data)
        if kind == "hetero":
            return  # every type checked by _hetero_targets
        if not (value.dtype.is_floating_point if isinstance(value, torch.Tensor)
                else np.issubdtype(value.dtype, np.floating)):
            raise InputError(f"{self.label()}: needs floating-point values; got {value.dtype} "
                             "(convert images to float first)")

    def _groups(self, kind: str, value: torch.Tensor, graph: Any
                ) -> tuple[int, torch.Tensor | None]:
        """(number of samples, the sample of each row of value; None: value is one sample)."""
        if kind == "image" and value.dim() == 4 or kind == "table" and value.dim() >= 2:
            return value.shape[0], torch.arange(value.shape[0], device=value.device)
        if kind != "graph":
            return 1, None
        batch = getattr(graph, "batch", None)
        if not isinstance(batch, torch.Tensor):
            return 1, None
        groups = int(getattr(graph, "num_graphs", 0) or (int(batch.max()) + 1))
        batch = batch.to(value.device)
        if self.target in ("auto", "x"):
            return groups, batch
        return groups, batch[graph.edge_index[0].to(value.device)]

    # -- the contract --

    def make_params(self, data: Any, generator: Any) -> dict[str, Any]:
        return {"seed": draw_seed(generator)}

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        kind, value, graph = self._locate(data)
        if kind == "hetero":
            return self._apply_hetero(data, int(params["seed"]))
        is_numpy = isinstance(value, np.ndarray)
        x0 = torch.from_numpy(np.array(value)) if is_numpy else value
        groups, index = self._groups(kind, x0, graph)
        g = torch_generator(params["seed"])
        lo, hi = self.t_range
        t = torch.randint(lo, hi + 1, (groups,), generator=g)
        abar = _abar_table(self.schedule, self.T, self.beta_start, self.beta_end)[t]
        cdt = _compute_dtype(x0)
        a = abar.sqrt().to(device=x0.device, dtype=cdt)
        b = (1 - abar).sqrt().to(device=x0.device, dtype=cdt)
        if index is None:  # one sample: one t for the whole tensor
            a, b = a.reshape(()), b.reshape(())
        else:  # one t per row, broadcast over the trailing dimensions
            shape = (-1,) + (1,) * (x0.dim() - 1)
            a, b = a[index].view(shape), b[index].view(shape)
        eps = _noise(x0, cdt, g, params["seed"])
        out = _mix(x0, a, b, eps)
        if is_numpy:
            out, eps_out = out.numpy(), eps.numpy()
        else:
            eps_out = eps if eps.dtype == x0.dtype else eps.to(x0.dtype)
        if kind == "graph":
            new = copy.copy(graph)
            key = "x" if self.target == "auto" else self.target
            setattr(new, key, out)
            if self.return_noise:
                new.diffusion_t = t.to(x0.device)
                setattr(new, f"{key}_noise", eps_out)
                _register_batch_keys(new, key, groups)
            return new
        if isinstance(data, tuple | list) and not isinstance(data, torch.Tensor):
            new_data: Any = type(data)([out, *data[1:]])
        else:
            new_data = out
        if self.return_noise:
            return {"data": new_data, "t": t, "noise": eps_out}
        return new_data


    def _apply_hetero(self, data: Any, seed: int) -> Any:
        if hasattr(data, "to_data_list"):  # a Batch of HeteroData: graph by graph
            graphs = [self._apply_hetero(graph, derive_seed(seed, _HETERO_GRAPH, g))
                      for g, graph in enumerate(data.to_data_list())]
            return sys.modules["torch_geometric.data"].Batch.from_data_list(graphs)
        g = torch_generator(seed)
        lo, hi = self.t_range
        t = torch.randint(lo, hi + 1, (1,), generator=g)
        abar = _abar_table(self.schedule, self.T, self.beta_start, self.beta_end)[t]
        out = copy.copy(data)  # copies every store: the writes below stay in the copy
        for store in (*out.node_stores, *out.edge_stores):
            store.__dict__.pop("_cached_attr", None)
        key = self._graph_key()
        for store_key, name, x0 in self._hetero_targets(data):
            cdt = _compute_dtype(x0)
            a = abar.sqrt().to(device=x0.device, dtype=cdt).reshape(())
            b = (1 - abar).sqrt().to(device=x0.device, dtype=cdt).reshape(())
            s = type_seed(seed, name)
            eps = _noise(x0, cdt, torch_generator(s), s)
            out[store_key][key] = _mix(x0, a, b, eps)
            if self.return_noise:
                out[store_key][f"{key}_noise"] = eps if eps.dtype == x0.dtype else eps.to(
                    x0.dtype)
                out.diffusion_t = t.to(x0.device)
        return out


def _is_hetero(data: Any) -> bool:
    """Whether ``data`` is a PyG HeteroData (known by its per-type stores; PyG not imported)."""
    return any(c.__name__ == "HeteroData" for c in type(data).__mro__)


def _noise(x0: torch.Tensor, dtype: torch.dtype, generator: torch.Generator,
           seed: int) -> torch.Tensor:
    """Standard normal noise shaped like ``x0``: from ``generator`` on the CPU, elsewhere from
    a device generator seeded with ``(seed, _DEVICE_NOISE)``."""
    if x0.device.type == "cpu":
        return torch.randn(x0.shape, generator=generator, dtype=dtype)
    dev_g = torch.Generator(device=x0.device)
    dev_g.manual_seed(derive_seed(seed, _DEVICE_NOISE))
    return torch.randn(x0.shape, generator=dev_g, dtype=dtype, device=x0.device)


def _register_batch_keys(batch: Any, key: str, groups: int) -> None:
    """On a PyG ``Batch`` (duck-typed: it has ``_slice_dict``), record how the new attributes
    split per graph, so ``to_data_list()`` still works; the input's dicts are not changed."""
    slices = getattr(batch, "_slice_dict", None)
    incs = getattr(batch, "_inc_dict", None)
    if not isinstance(slices, dict) or key not in slices:
        return
    slices = dict(slices)
    slices["diffusion_t"] = torch.arange(groups + 1)
    slices[f"{key}_noise"] = slices[key]
    batch._slice_dict = slices
    if isinstance(incs, dict):
        incs = dict(incs)
        incs["diffusion_t"] = torch.zeros(groups, dtype=torch.long)
        incs[f"{key}_noise"] = torch.zeros(groups, dtype=torch.long)
        batch._inc_dict = incs
