"""The RotNet example trains a few steps end to end, in a subprocess, as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_rotnet_example_runs():
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "rotnet_pretrain.py"),
                           "--steps", "3", "--batch-size", "16"],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    losses = [float(line.split()[-1]) for line in proc.stdout.splitlines()
              if line.startswith("step")]
    assert len(losses) == 2 and all(loss > 0 for loss in losses)
    assert "rotation accuracy on 297 held-out digits" in proc.stdout
