"""Which sampler ``augkit.ray.fit_resample`` runs, and with what: read from an augkit policy,
an augkit transform, or an augkit / imbalanced-learn sampler estimator."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from augkit.errors import ParamError

#: The samplers that run on Ray Data, by their registry names.
DISTRIBUTED_SAMPLERS = ("smote", "adasyn", "random_oversample")
_NEIGHBOURS_KEY = {"smote": "k_neighbors", "adasyn": "n_neighbors", "random_oversample": None}


@dataclass(frozen=True)
class SamplerSpec:
    """A sampler's registry ``name``, ``sampling_strategy``, neighbour count (``"auto"`` or an
    int; None for random_oversample) and integer ``random_state``."""

    name: str
    sampling_strategy: Any
    neighbours: Any
    random_state: int

    @property
    def neighbours_param(self) -> str | None:
        return _NEIGHBOURS_KEY[self.name]


def sampler_spec(sampler_or_policy: Any, seed: int | None = None) -> SamplerSpec:
    """The spec of an augkit Policy (one step in its dataset stage), a policy file or YAML
    text, an augkit transform (``smote``, ``adasyn``, ``random_oversample``) or a sampler
    estimator (augkit's or imbalanced-learn's SMOTE, ADASYN, RandomOverSampler). ``seed``,
    when given, is the random_state; else the sampler's own; else (a policy) the one the
    policy's dataset stage draws, as ``policy.fit_resample`` does."""
    from augkit.policy import Policy, load_policy
    from augkit.transform import Transform

    if isinstance(sampler_or_policy, str | bytes) or hasattr(sampler_or_policy, "__fspath__"):
        sampler_or_policy = load_policy(sampler_or_policy)
    if isinstance(sampler_or_policy, Policy):
        return _from_policy(sampler_or_policy, seed)
    if isinstance(sampler_or_policy, Transform):
        return _from_transform(sampler_or_policy, seed, None)
    return _from_estimator(sampler_or_policy, seed)


def _allowed() -> str:
    return ("an augkit Policy with one of " + ", ".join(DISTRIBUTED_SAMPLERS) + " in its "
            "dataset stage, such a transform, or a SMOTE / ADASYN / RandomOverSampler estimator")


def _from_policy(policy: Any, seed: int | None) -> SamplerSpec:
    steps = policy.dataset
    if len(steps) != 1:
        raise ParamError(f"fit_resample: the policy's dataset stage has {len(steps)} steps; "
                         f"allowed: {_allowed()}")
    step = steps[0]
    if seed is None and getattr(step, "random_state", None) is None:
        seed = _policy_drawn_seed(policy, step)
    return _from_transform(step, seed, policy)


def _from_transform(t: Any, seed: int | None, policy: Any) -> SamplerSpec:
    name = getattr(t, "name", type(t).__name__)
    if name not in DISTRIBUTED_SAMPLERS:
        raise ParamError(f"fit_resample: got {name!r}; allowed: {_allowed()}")
    if getattr(t, "p", 1.0) != 1.0:
        raise ParamError(f"fit_resample: {name} has p={t.p}; allowed: p=1 (a dataset step that "
                         "may be skipped has no distributed form)")
    if name == "random_oversample" and t.shrinkage is not None:
        raise ParamError("fit_resample: random_oversample with shrinkage has no distributed "
                         "form yet; allowed: shrinkage=null")
    key = _NEIGHBOURS_KEY[name]
    return _spec(name, t.sampling_strategy, getattr(t, key) if key else None,
                 t.random_state if seed is None else seed)


def _from_estimator(est: Any, seed: int | None) -> SamplerSpec:
    from imblearn.over_sampling import ADASYN, SMOTE, RandomOverSampler

    from augkit.plugins.imbalance.oversamplers import RandomOverSampler as AugRandomOverSampler
    from augkit.plugins.imbalance.samplers import ADASYN as AugADASYN
    from augkit.plugins.imbalance.samplers import SMOTE as AugSMOTE

    names = {SMOTE: "smote", AugSMOTE: "smote", ADASYN: "adasyn", AugADASYN: "adasyn",
             RandomOverSampler: "random_oversample", AugRandomOverSampler: "random_oversample"}
    name = names.get(type(est))
    if name is None:
        raise ParamError(f"fit_resample: got {type(est).__name__}; allowed: {_allowed()}")
    if name == "random_oversample" and est.shrinkage is not None:
        raise ParamError("fit_resample: RandomOverSampler with shrinkage has no distributed "
                         "form yet; allowed: shrinkage=None")
    key = _NEIGHBOURS_KEY[name]
    return _spec(name, est.sampling_strategy, getattr(est, key) if key else None,
                 est.random_state if seed is None else seed)


def _spec(name: str, strategy: Any, neighbours: Any, random_state: Any) -> SamplerSpec:
    import numpy as np

    key = _NEIGHBOURS_KEY[name]
    if key and not (neighbours == "auto" or (isinstance(neighbours, int | np.integer)
                                             and not isinstance(neighbours, bool))):
        raise ParamError(f"fit_resample: {name} {key} got {type(neighbours).__name__}; "
                         "allowed: an integer >= 1 or 'auto' (a k-NN estimator object has "
                         "no distributed form)", param=key, value=neighbours)
    if random_state is None:
        raise ParamError(f"fit_resample: {name} has no random_state and no seed was given; "
                         "allowed: seed=<int> (the result is a function of the seed)",
                         param="seed", value=None)
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer):
        raise ParamError(f"fit_resample: random_state got {type(random_state).__name__}; "
                         "allowed: an integer seed", param="random_state", value=random_state)
    return SamplerSpec(name, strategy, neighbours, int(random_state))


def _policy_drawn_seed(policy: Any, step: Any) -> int:
    """The random_state the policy's dataset stage draws for ``step`` (``policy.fit_resample``
    draws it from the policy's seed): the stage run with a copy of the step that records its
    drawn parameters instead of resampling."""
    from augkit.policy import Policy

    recorded: dict[str, Any] = {}

    class _Recording(type(step)):  # type: ignore[misc]
        def check_input(self, data: Any) -> None:
            return None

        def apply(self, data: Any, params: dict[str, Any]) -> Any:
            recorded.update(params)
            return data

    probe = copy.copy(step)
    probe.__class__ = _Recording
    Policy(seed=policy.seed, dataset=[probe]).fit_resample(None, None)
    return int(recorded["random_state"])
