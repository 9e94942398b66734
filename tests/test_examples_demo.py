"""The main job and the examples run end to end, in subprocesses, as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import augkit

ROOT = Path(__file__).resolve().parent.parent


def test_demo_runs_end_to_end(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "augkit", "demo", "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = proc.stdout
    for section in ("graph", "imbalance", "vision", "utilities"):
        assert f"[{section}] done" in text, text
    assert "skipped" not in text
    pictures = sorted(p.name for p in out.glob("*.png"))
    assert len(pictures) >= 4, pictures
    assert all((out / p).stat().st_size > 1000 for p in pictures)
    assert str(out) in text  # it says where the pictures are


def test_simclr_example_runs():
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "simclr_fakedata.py"),
                           "--steps", "3", "--batch-size", "8"],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    losses = [float(line.split()[-1]) for line in proc.stdout.splitlines()
              if line.startswith("step")]
    assert losses and all(loss > 0 for loss in losses)


def test_example_policies_validate():
    for path in sorted((ROOT / "examples" / "policies").glob("*.yaml")):
        policy = augkit.load_policy(path)
        assert augkit.load_policy(policy.to_yaml()) == policy, path
