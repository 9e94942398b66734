"""Every error augkit raises on purpose is an ``AugkitError`` (``ParamError`` for a bad
parameter value, ``InputError`` for bad data), naming what is wrong and what is allowed: one
test per raise of the graph backend seam, the graph functions, compound scaling, the
generator check and the scalers."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
import torch

from augkit.errors import AugkitError, InputError, ParamError


def test_augkit_error_classes_are_still_value_errors():
    # Code that caught the plain ValueError these used to be keeps working.
    assert issubclass(ParamError, AugkitError) and issubclass(ParamError, ValueError)
    assert issubclass(InputError, AugkitError) and issubclass(InputError, ValueError)


# ---- the graph backend seam -----------------------------------------------------------------


def test_unknown_backend_is_a_param_error():
    from augkit.plugins.graph import _backend

    with pytest.raises(ParamError, match=r"backend: got 'fast'; allowed: 'auto', 'torch', "
                                         r"'numba'") as info:
        _backend.use_numba("fast", torch.zeros(1))
    assert info.value.param == "backend" and info.value.value == "fast"


def test_numba_backend_without_numba_is_a_param_error():
    from augkit.plugins.graph import _backend

    with mock.patch.object(_backend, "HAVE_NUMBA", False), pytest.raises(
            ParamError, match=r"got 'numba', which needs numba installed.*allowed here: "
                              r"'auto', 'torch'"):
        _backend.use_numba("numba", torch.zeros(1), torch.zeros(1))


def test_numba_backend_off_the_cpu_is_a_param_error():
    from augkit.plugins.graph import _backend

    meta = torch.zeros(2, 3, dtype=torch.long, device="meta")
    with pytest.raises(ParamError, match=r"runs on CPU tensors only, not on meta; allowed "
                                         r"here: 'auto', 'torch'"):
        _backend.use_numba("numba", meta, torch.zeros(1))


# ---- graph functions ------------------------------------------------------------------------


def test_csr_node_id_out_of_range_is_an_input_error():
    pytest.importorskip("numba")
    from augkit.plugins.graph import functional as F

    ei = torch.tensor([[0, 5], [1, 0]])
    with pytest.raises(InputError, match=r"outside 0\.\.2; allowed: ids in \[0, num_nodes=3\)"):
        F.csr(ei, 3, backend="numba")


def test_unknown_sampling_method_is_a_param_error():
    from augkit.plugins.graph import functional as F

    ei = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ParamError, match=r"method: got 'bfs'; allowed: .*khop"):
        F.sample_subgraph_nodes(ei, 2, "bfs", 0.5, 0)


@pytest.mark.parametrize("items", [False, True], ids=["mask_feature", "mask_feature_items"])
@pytest.mark.parametrize(("key", "value"), [("mode", "row"), ("fill", "median")])
def test_unknown_mask_mode_or_fill_is_a_param_error(items, key, value):
    from augkit.plugins.graph import functional as F

    x = torch.ones(3, 2)
    with pytest.raises(ParamError, match=rf"{key}: got '{value}'; allowed: ") as info:
        if items:
            F.mask_feature_items(x, 0.5, torch.tensor([0]), torch.tensor([True]),
                                 torch.zeros(3, dtype=torch.long), 1, **{key: value})
        else:
            F.mask_feature(x, 0.5, 0, **{key: value})
    assert info.value.param == key


def test_mask_feature_of_a_3d_x_is_an_input_error():
    from augkit.plugins.graph import functional as F

    with pytest.raises(InputError, match=r"x has shape \(2, 2, 2\); allowed: \[N\] or \[N, F\]"):
        F.mask_feature(torch.ones(2, 2, 2), 0.5, 0)


def test_group_id_past_num_groups_is_an_input_error():
    pytest.importorskip("numba")
    from augkit.plugins.graph import functional as F

    x = torch.ones(3, 2, dtype=torch.float64)
    group = torch.tensor([0, 1, 2])
    with pytest.raises(InputError, match=r"group holds ids outside 0\.\.1; allowed: one id in "
                                         r"\[0, num_groups=2\) per row"):
        F.mask_feature(x, 0.5, 0, fill="mean", group=group, num_groups=2, backend="numba")


def test_batch_group_id_past_num_groups_is_an_input_error():
    pytest.importorskip("numba")
    from augkit.plugins.graph import functional as F

    x = torch.ones(3, 2, dtype=torch.float64)
    with pytest.raises(InputError, match=r"group holds ids outside 0\.\.1; allowed: one id in "
                                         r"\[0, num_groups=2\) per row"):
        F.mask_feature_items(x, 0.5, torch.tensor([0, 1]), torch.tensor([True, True]),
                             torch.tensor([0, 1, 2]), 2)


# ---- compound scaling -----------------------------------------------------------------------


def test_unknown_efficientnet_is_a_param_error():
    from augkit.compound import efficientnet_params

    with pytest.raises(ParamError, match=r"got 'b9'; allowed: efficientnet-b0, "):
        efficientnet_params("b9")


def test_negative_phi_is_a_param_error():
    from augkit.compound import compound_scaling

    with pytest.raises(ParamError, match=r"got phi=-1.*allowed: phi >= 0 and coefficients >= 1"):
        compound_scaling(-1)


def test_grid_below_one_is_a_param_error():
    from augkit.compound import search_coefficients

    with pytest.raises(ParamError, match=r"got grid=\[0\.5\]; allowed: a non-empty sequence "
                                         r"of numbers >= 1"):
        search_coefficients(grid=[0.5])


def test_flops_ratio_not_positive_is_a_param_error():
    from augkit.compound import search_coefficients

    with pytest.raises(ParamError, match=r"got flops_ratio=0, tol=0\.05; allowed: flops_ratio "
                                         r"> 0 and tol >= 0"):
        search_coefficients(flops_ratio=0)


# ---- the generator --------------------------------------------------------------------------


def test_a_generator_off_the_cpu_is_an_augkit_error():
    from augkit.random import as_generator

    class CudaGenerator(torch.Generator):  # what a CUDA generator reports, without CUDA
        device = torch.device("cuda", 0)

    with pytest.raises(AugkitError, match=r"generator: got a torch.Generator on cuda:0; "
                                          r"allowed: None, an int seed, a CPU torch.Generator"):
        as_generator(CudaGenerator())


# ---- the scalers ----------------------------------------------------------------------------


def _scalers():
    pytest.importorskip("sklearn")
    from augkit.scalers import MinMaxScaler, StandardScaler

    return MinMaxScaler, StandardScaler


def test_scaler_of_a_1d_tensor_is_an_input_error():
    _, StandardScaler = _scalers()
    with pytest.raises(InputError, match=r"Expected 2D tensor, got shape \(4,\)"):
        StandardScaler().fit(torch.ones(4))


def test_scaler_of_no_rows_is_an_input_error():
    _, StandardScaler = _scalers()
    with pytest.raises(InputError, match=r"0 sample\(s\) \(shape=\(0, 3\)\) while a minimum of "
                                         r"1 is required by StandardScaler"):
        StandardScaler().fit(torch.ones(0, 3))


def test_scaler_of_other_feature_count_is_an_input_error():
    _, StandardScaler = _scalers()
    scaler = StandardScaler().fit(torch.ones(4, 3))
    with pytest.raises(InputError, match=r"X has 2 features, but StandardScaler is expecting 3"):
        scaler.transform(torch.ones(4, 2))


def test_scaler_feature_range_upside_down_is_a_param_error():
    MinMaxScaler, _ = _scalers()
    with pytest.raises(ParamError, match=r"Minimum of desired feature range must be smaller "
                                         r"than maximum. Got \(1, 0\)"):
        MinMaxScaler(feature_range=(1, 0)).fit(np.ones((3, 2)))


def test_scaler_sample_weight_of_other_length_is_an_input_error():
    _, StandardScaler = _scalers()
    with pytest.raises(InputError, match=r"sample_weight.shape == \(2,\), expected \(4,\)"):
        StandardScaler().fit(torch.ones(4, 3), sample_weight=torch.ones(2))


def test_scaler_of_infinite_input_is_an_input_error():
    _, StandardScaler = _scalers()
    x = torch.ones(4, 3)
    x[1, 2] = float("inf")
    with pytest.raises(InputError, match="Input X contains infinity"):
        StandardScaler().fit(x)
