"""What the run ran on: the machine, the installed libraries and their versions, the thread
counts in effect, the load, and how much wall time the host took away (all recorded in the
result file, so a page can be read without the machine at hand)."""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
import time
from collections.abc import Iterable
from importlib import metadata
from typing import Any

#: Distributions whose versions go into every result file (absent ones are recorded as null).
LIBRARIES = (
    "augkit", "torch", "torchvision", "torch-geometric", "numpy", "scipy", "numba",
    "albumentations", "opencv-python-headless", "kornia", "imbalanced-learn", "scikit-learn",
    "networkx", "matplotlib", "pyyaml",
)


def missing_modules(names: Iterable[str]) -> list[str]:
    """The import names in ``names`` that are not installed (without importing them)."""
    missing = []
    for name in names:
        try:
            if importlib.util.find_spec(name) is None:
                missing.append(name)
        except (ImportError, ValueError):
            missing.append(name)
    return missing


def cuda_available() -> bool:
    """Whether torch sees a CUDA device (imports torch)."""
    import torch

    return bool(torch.cuda.is_available())


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_isa() -> dict[str, str | None]:
    """What the compiled kernels are built for: LLVM's name of the host CPU (numba compiles
    for it, e.g. ``znver3``) and the widest x86 vector extension the CPU reports. Two
    machines that report the same CPU model can differ here, and so can their kernels' speed."""
    arch = None
    try:
        import llvmlite.binding as llvm

        arch = str(llvm.get_host_cpu_name())
    except Exception:  # llvmlite comes with numba, an optional dependency
        pass
    simd = None
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    for name in ("avx512f", "avx2", "avx", "sse4_2"):
                        if name in flags:
                            simd = name
                            break
                    break
    except OSError:
        pass
    return {"cpu_arch": arch, "simd": simd}


def _total_memory() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def load_average() -> list[float] | None:
    """The 1, 5 and 15-minute load, rounded; None where the platform has none."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def host_pauses(seconds: float = 1.0, gap_s: float = 0.002) -> dict[str, float | int]:
    """Spin on the clock for ``seconds`` and add up the gaps >= ``gap_s`` between two reads:
    wall time in which this process did not run although it wanted to (the scheduler, or a
    hypervisor pausing the virtual CPU). About 0 on a quiet machine; where it is not, a pause
    lands in whichever contender is running, which is why measurements are short and the
    median is taken over many rounds."""
    start = last = time.perf_counter()
    end = start + seconds
    lost, gaps, largest = 0.0, 0, 0.0
    while last < end:
        now = time.perf_counter()
        if now - last >= gap_s:
            lost, gaps, largest = lost + (now - last), gaps + 1, max(largest, now - last)
        last = now
    wall = last - start
    return {"wall_s": wall, "lost_s": lost, "lost_share": lost / wall if wall else 0.0,
            "gaps": gaps, "max_gap_s": largest}


def _nvidia_driver() -> str | None:
    """The NVIDIA driver's version as nvidia-smi reports it (None without nvidia-smi)."""
    import subprocess

    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip().splitlines()[0] if out.strip() else None


def machine_info() -> dict[str, Any]:
    """The ``machine`` record: host, platform, CPU (model, LLVM name, vectors), memory, GPU."""
    import torch

    gpu = None
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        gpu = {"name": props.name, "memory_bytes": int(props.total_memory),
               "count": torch.cuda.device_count(), "cuda": torch.version.cuda,
               "driver": _nvidia_driver(), "capability": f"{props.major}.{props.minor}"}
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": _cpu_model(),
        **_cpu_isa(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "memory_bytes": _total_memory(),
        "gpu": gpu,
    }


def library_versions() -> dict[str, str | None]:
    """Distribution -> installed version (None when absent), for :data:`LIBRARIES`."""
    out: dict[str, str | None] = {}
    for dist in LIBRARIES:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def thread_settings() -> dict[str, Any]:
    """Thread counts in effect (augkit and the anchors share them: one process)."""
    import torch

    out: dict[str, Any] = {
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
        "opencv_threads": None,
        "numba_threads": None,
    }
    if "cv2" in sys.modules:
        out["opencv_threads"] = int(sys.modules["cv2"].getNumThreads())
    if "numba" in sys.modules:
        out["numba_threads"] = int(sys.modules["numba"].get_num_threads())
    return out


def set_threads(n: int) -> None:
    """One thread count for torch, OpenCV and numba, so no library gets more cores."""
    import torch

    torch.set_num_threads(n)
    try:
        import cv2

        cv2.setNumThreads(n)
    except ImportError:
        pass
    try:
        import numba

        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    except ImportError:
        pass

