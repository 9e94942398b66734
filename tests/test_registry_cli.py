"""Registry, plugin discovery through entry points, and the `augkit` command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

import augkit
from augkit import registry
from augkit.cli import main
from augkit.errors import PluginWarning, RegistryError

HERE = Path(__file__).parent
ROOT = HERE.parent
BUILTIN = ["node_dropout", "edge_dropout", "feature_masking", "edge_rewiring",
           "subgraph_sampling", "smote", "adasyn", "graph_smote", "gaussian_blur",
           "random_erasing", "mixup", "cutmix", "minmax_scale", "standardize",
           "diffusion_noise", "compose", "one_of", "some_of", "random_apply", "views"]


def test_every_design_name_is_registered():
    names = augkit.list_transforms()
    assert set(BUILTIN) <= set(names)


def test_every_registered_class_matches_its_manifest():
    for name, entry in registry.entries().items():
        cls = entry.load()
        assert cls.name == name
        if entry.kinds and "any" not in entry.kinds:
            assert set(entry.kinds) == set(cls.kinds), name


def test_list_by_kind():
    graph = augkit.list_transforms("graph")
    assert "edge_dropout" in graph and "mixup" not in graph
    assert "mixup" in augkit.list_transforms("image")


def test_unknown_name_suggests():
    with pytest.raises(RegistryError, match="did you mean 'edge_dropout'"):
        augkit.make("edge_dropuot")


def test_listing_imports_no_backend():
    code = ("import sys; from augkit.cli import main; main(['list']); "
            "bad = [m for m in ('torch_geometric', 'albumentations', 'imblearn', 'sklearn') "
            "if m in sys.modules]; print('LOADED', bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "LOADED []" in out
    assert "edge_dropout" in out


def _install_thirdparty(tmp_path, monkeypatch):
    # A previous test may have imported the package from another folder: forget it.
    for name in [m for m in sys.modules if m.startswith("augkit_thirdparty")]:
        del sys.modules[name]
    target = tmp_path / "site"
    shutil.copytree(HERE / "thirdparty", target)
    monkeypatch.syspath_prepend(str(target))
    registry.refresh()
    return target


def test_third_party_plugin_loads_from_yaml(tmp_path, monkeypatch):
    _install_thirdparty(tmp_path, monkeypatch)
    try:
        assert "thirdparty.negate" in augkit.list_transforms("table")
        policy = augkit.load_policy("sample:\n  - thirdparty.negate: {factor: 2.0}\n")
        assert torch.equal(policy(torch.ones(2), index=0), torch.full((2,), -2.0))
        assert registry.entries()["thirdparty.negate"].package == "augkit-thirdparty"
    finally:
        monkeypatch.undo()
        registry.refresh()


BROKEN = ("augkit_boom", "augkit_clash", "augkit_zclash", "augkit_notdict")


@pytest.fixture
def broken_plugins(tmp_path, monkeypatch):
    """tests/thirdparty/broken installed: a manifest raising RuntimeError, one naming a list,
    a package clashing with augkit's edge_dropout and, on shared.double, with another third
    party, and targets that are no Transform or whose module raises."""
    for name in [m for m in sys.modules if m.startswith(BROKEN)]:
        del sys.modules[name]
    target = tmp_path / "broken"
    shutil.copytree(HERE / "thirdparty" / "broken", target)
    monkeypatch.syspath_prepend(str(target))
    monkeypatch.setattr(registry, "_warned", set())
    registry.refresh()
    yield target
    monkeypatch.undo()
    for name in [m for m in sys.modules if m.startswith(BROKEN)]:
        del sys.modules[name]
    registry.refresh()


def test_broken_and_clashing_plugins_are_skipped_with_one_warning_each(broken_plugins):
    with pytest.warns(PluginWarning) as record:
        names = augkit.list_transforms()
    assert "gaussian_blur" in names and "shared.double" in names
    assert registry.entries()["edge_dropout"].package == "augkit"  # the built-in keeps it
    # augkit-clash sorts before augkit-zclash: it keeps the shared name, whatever the order
    # the packages were installed in.
    assert torch.equal(augkit.make("shared.double")(torch.ones(2)), torch.full((2,), 2.0))
    assert isinstance(augkit.make("gaussian_blur"), augkit.Transform)
    skipped = {(s.package, s.name) for s in registry.skipped()}
    assert skipped == {("augkit-boom", "boom"), ("augkit-notdict", "notdict"),
                       ("augkit-clash", "edge_dropout"), ("augkit-clash", "clash.bad_spec"),
                       ("augkit-zclash", "shared.double")}
    reasons = {s.name: s.reason for s in registry.skipped()}
    assert "RuntimeError: the boom plugin is broken" in reasons["boom"]
    assert "already registered by package 'augkit'" in reasons["edge_dropout"]
    messages = [str(w.message) for w in record]
    assert len(messages) == len(set(messages)) == 5
    assert all("augkit-" in m for m in messages)
    registry.refresh()  # discovering again does not warn again
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        augkit.list_transforms()


def test_plugin_target_must_be_a_transform(broken_plugins):
    with pytest.warns(PluginWarning):
        augkit.list_transforms()
    with pytest.raises(RegistryError, match=r"'os:getcwd'.*allowed: a subclass of"):
        augkit.make("clash.getcwd")
    with pytest.raises(RegistryError, match=r"importing 'augkit_clash.explode' raised "
                                            r"ValueError: the explode module is broken"):
        augkit.make("clash.explode")
    with pytest.warns(PluginWarning) as record:
        table = augkit.list_transforms("table")  # loads kind-less entries: skips the bad ones
    assert sorted(str(w.message).split("'")[1] for w in record) == ["clash.explode",
                                                                     "clash.getcwd"]
    assert "shared.double" in table and "clash.getcwd" not in table
    assert {"clash.getcwd", "clash.explode"} <= {s.name for s in registry.skipped()}


def test_broken_plugins_leave_the_cli_working_and_warn_once(broken_plugins):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(broken_plugins), str(ROOT)])}
    proc = subprocess.run([sys.executable, "-m", "augkit", "list"], capture_output=True,
                          text=True, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "gaussian_blur" in proc.stdout and "Traceback" not in proc.stderr
    assert proc.stderr.count("skipped 'boom' of plugin package 'augkit-boom'") == 1
    assert proc.stderr.count("'edge_dropout' of plugin package 'augkit-clash'") == 1
    assert "skipped: edge_dropout (package augkit-clash)" in proc.stdout  # and says why


def test_list_shows_every_transforms_stages_as_its_class_declares(capsys):
    """The stages column comes from the manifests (listing imports no backend): each must be
    what the class itself allows."""
    assert main(["list"]) == 0
    rows = {line.split()[0]: line.split()[2] for line in capsys.readouterr().out.splitlines()[1:]
            if not line.startswith("skipped:")}
    for name in augkit.list_transforms():
        assert rows[name] == ",".join(registry.get(name).levels), name


def test_cli_list_show_schema(capsys):
    assert main(["list"]) == 0
    assert "edge_dropout" in capsys.readouterr().out
    assert main(["show", "one_of"]) == 0
    out = capsys.readouterr().out
    assert "weights" in out and "allowed" in out
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["properties"]["sample"]["items"] == {"$ref": "#/$defs/step_sample"}
    assert main(["list", "--markdown"]) == 0
    assert "## `mixup`" in capsys.readouterr().out


def test_cli_validate(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text("augkit: 1\nsample:\n  - edge_dropout: {p: 0.2}\n")
    assert main(["validate", str(good)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("augkit: 1\nsample:\n  - edge_dropout: {p: 0.2}\n"
                   "  - one_of:\n      transforms:\n        - node_dropout: {p: 1.5}\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:6: sample[1].one_of.transforms[0].node_dropout.p: got 1.5" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_cli_errors_are_one_line():
    proc = subprocess.run([sys.executable, "-m", "augkit", "show", "nope"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("augkit: error: unknown transform 'nope'")
    assert "Traceback" not in proc.stderr


def test_docs_reference_is_the_cli_output():
    """docs/transforms.md is what ``augkit list --markdown`` prints: a docstring or parameter
    changed without regenerating it fails here (it had drifted once)."""
    from augkit.cli import _markdown_reference

    page = Path(__file__).resolve().parents[1] / "docs" / "transforms.md"
    want = _markdown_reference(registry.list_transforms(None)) + "\n"
    assert page.read_text() == want, "regenerate: augkit list --markdown > docs/transforms.md"


def test_cli_validate_paths_and_several_files(tmp_path, capsys, monkeypatch):
    import io

    good = tmp_path / "good.yaml"
    good.write_text("augkit: 1\nsample:\n  - edge_dropout: {p: 0.2}\n")
    folder = tmp_path / "some_folder"
    folder.mkdir()
    missing = tmp_path / "policy"
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(b"# caf\xe9\nseed: 1\n")
    assert main(["validate", str(good), str(good)]) == 0
    capsys.readouterr()
    assert main(["validate", str(folder), str(good), str(missing), str(latin1)]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 3 and "Traceback" not in err
    assert lines[0].startswith(f"augkit: error: {folder}: got a folder")
    assert lines[1].startswith(f"augkit: error: {missing}: cannot read the policy file")
    assert lines[2].startswith(f"augkit: error: {latin1}:1: got bytes that are not UTF-8")
    assert "got str" not in err and f"{good}: ok" in out
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"seed: 3\n")))
    assert main(["validate", "-"]) == 0
    assert "<stdin>: ok" in capsys.readouterr().out


def test_cli_version_and_help_name_every_argument(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"augkit {augkit.__version__}"
    for command, words in (("validate", "standard input"), ("show", "transform name")):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert words in capsys.readouterr().out


def test_cli_list_has_a_header_and_stages(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "kinds", "stages", "package"]
    row = next(line.split() for line in lines if line.startswith("compose "))
    assert row[2] == "sample,batch,dataset"


def test_cli_demo_jobs_must_be_positive(capsys):
    with pytest.raises(SystemExit) as info:
        main(["demo", "--jobs", "0"])
    assert info.value.code == 2
    assert "--jobs: got '0'; allowed: an integer >= 1" in capsys.readouterr().err
    from augkit.demo import run_demo
    from augkit.errors import AugkitError

    with pytest.raises(AugkitError, match="jobs: got 0; allowed: an integer >= 1"):
        run_demo(jobs=0)
