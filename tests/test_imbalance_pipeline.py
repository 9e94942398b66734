"""The registry's imbalance samplers are scikit-learn estimators themselves: a step of
imbalanced-learn's Pipeline under cross_val_score and GridSearchCV, cloned by sklearn's clone,
giving the scores imbalanced-learn's own class gives in the same pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import augkit
from augkit.errors import ParamError

pytest.importorskip("imblearn")
import imblearn.combine as imb_combine
import imblearn.over_sampling as imb_over
from imblearn.pipeline import Pipeline
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.utils import get_tags

#: registry name -> (imbalanced-learn's class, extra parameters, the data it takes)
SAMPLERS = {
    "smote": (imb_over.SMOTE, {}, "numeric"),
    "adasyn": (imb_over.ADASYN, {}, "numeric"),
    "random_oversample": (imb_over.RandomOverSampler, {}, "numeric"),
    "smotenc": (imb_over.SMOTENC, {"categorical_features": [0, 1]}, "mixed"),
    "smoten": (imb_over.SMOTEN, {}, "categorical"),
    "borderline_smote": (imb_over.BorderlineSMOTE, {}, "numeric"),
    "svm_smote": (imb_over.SVMSMOTE, {}, "numeric"),
    "kmeans_smote": (imb_over.KMeansSMOTE, {"cluster_balance_threshold": 0.1}, "numeric"),
    "smote_enn": (imb_combine.SMOTEENN, {}, "numeric"),
    "smote_tomek": (imb_combine.SMOTETomek, {}, "numeric"),
}


def _data(kind, seed=0, n=240):
    X, y = make_classification(n, n_features=6, n_informative=4, weights=[0.8, 0.2],
                               random_state=seed)
    if kind == "mixed":
        X[:, :2] = np.round(np.abs(X[:, :2]))
    elif kind == "categorical":
        X = np.round(np.abs(X)).astype(int)
    return X, y


def _pipe(sampler):
    return Pipeline([("over", sampler), ("clf", LogisticRegression(max_iter=1000))])


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_make_is_a_pipeline_step_under_cross_val_score(name):
    imb_class, extra, kind = SAMPLERS[name]
    X, y = _data(kind)
    sampler = augkit.make(name, random_state=0, **extra)
    got = cross_val_score(_pipe(sampler), X, y, cv=3)
    want = cross_val_score(_pipe(imb_class(random_state=0, **extra)), X, y, cv=3)
    assert np.array_equal(got, want)
    twin = clone(sampler)
    assert twin is not sampler and twin == sampler and type(twin) is type(sampler)
    assert clone(_pipe(sampler)).steps[0][1] == sampler
    assert get_tags(sampler) == get_tags(imb_class(**extra))


def test_grid_search_sets_the_samplers_parameters():
    X, y = _data("numeric", seed=1)
    grid = {"over__k_neighbors": [2, 4, 6], "over__sampling_strategy": [0.5, 1.0]}
    got = GridSearchCV(_pipe(augkit.make("smote", random_state=0)), grid, cv=3).fit(X, y)
    want = GridSearchCV(_pipe(imb_over.SMOTE(random_state=0)), grid, cv=3).fit(X, y)
    assert got.best_params_ == want.best_params_
    assert np.array_equal(got.cv_results_["mean_test_score"],
                          want.cv_results_["mean_test_score"])


def test_set_params_checks_as_construction_does():
    t = augkit.make("smote", random_state=0)
    assert t.set_params(k_neighbors=3) is t and t.k_neighbors == 3
    assert t.get_params()["k_neighbors"] == 3 and t == augkit.make("smote", random_state=0,
                                                                     k_neighbors=3)
    with pytest.raises(ParamError, match="k_neighbors"):
        t.set_params(k_neighbors=0)
    with pytest.raises(ParamError, match="neighbours"):
        t.set_params(neighbours=3)
    with pytest.raises(ParamError, match="k_neighbors__n sets a parameter of k_neighbors"):
        t.set_params(k_neighbors__n=3)
    assert t.k_neighbors == 3  # a refused set_params changes nothing
    inner = imb_over.SMOTE(k_neighbors=2, random_state=0)
    combined = augkit.make("smote_enn", smote=inner, random_state=0)
    assert combined.get_params()["smote__k_neighbors"] == 2
    assert "smote__k_neighbors" not in combined.get_params(deep=False)
    combined.set_params(smote__k_neighbors=4)
    assert combined.smote.k_neighbors == 4


@st.composite
def smote_params(draw):
    out = {"random_state": draw(st.integers(0, 2**32 - 1))}
    if draw(st.booleans()):
        out["k_neighbors"] = draw(st.integers(1, 6))
    if draw(st.booleans()):
        out["sampling_strategy"] = draw(st.sampled_from([0.5, 0.8, 1.0, "minority", "all"]))
    return out


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(["smote", "adasyn", "borderline_smote", "random_oversample"]),
       params=smote_params(), data_seed=st.integers(0, 2**16))
def test_clone_and_set_params_round_trip_and_fit_as_imblearn(name, params, data_seed):
    imb_class, _, kind = SAMPLERS[name]
    if name == "adasyn" and "k_neighbors" in params:
        params["n_neighbors"] = params.pop("k_neighbors")
    if name == "random_oversample":
        params.pop("k_neighbors", None)
    sampler = augkit.make(name, **params)
    twin = clone(sampler)
    assert twin == sampler and twin.get_params(deep=False) == sampler.get_params(deep=False)
    rebuilt = augkit.make(name).set_params(**sampler.get_params(deep=False))
    assert rebuilt == sampler
    X, y = _data(kind, seed=data_seed, n=120)
    got = _pipe(twin).fit(X, y)
    want = _pipe(imb_class(**params)).fit(X, y)
    assert np.array_equal(got[-1].coef_, want[-1].coef_)
