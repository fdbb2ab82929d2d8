"""Reproducible PyTorch training for the baselines: seeds, and on the fixture data pinned kernels for another machine.

Import this module before torch (`from reproducible import FIXTURE, reproducible` as the first import):
on the fixture (MLGYM_DATA=fixture) it sets, before torch loads, one thread, ATen's portable kernels
(no AVX2/AVX-512 variants chosen by the CPU) and MKL's CPU-independent code path, so another machine
computes the same numbers and a fixture score can be recorded exactly. A GPU run keeps its fast kernels.
Measured: the same bits under simulated other machines, and on a second real one for every baseline but one
COCO validation caption (docs/tasks.md, "Reproducible fixture scores").
Shared by the PyTorch tasks' baselines (tasks/torchShared/; a task lists it in starter_code and the
workspace gets it as reproducible.py).
"""
import os
import random

FIXTURE = os.environ.get("MLGYM_DATA") == "fixture"
if FIXTURE:
    os.environ.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                      ATEN_CPU_CAPABILITY="default", MKL_CBWR="COMPATIBLE")

import numpy as np  # noqa: E402 (after the environment above)
import torch  # noqa: E402


def reproducible(seed):
    """Seed every generator; on the fixture on a CPU also pin threads and kernels (GPU runs keep their fast ones)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if FIXTURE and not torch.cuda.is_available():  # the fixture's recorded score is a CPU run's
        torch.set_num_threads(1)
        torch.use_deterministic_algorithms(True)
        torch.backends.mkldnn.enabled = False  # oneDNN picks its kernels by CPU
        torch.backends.nnpack.set_flags(False)  # so does NNPACK
