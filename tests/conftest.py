"""Shared test setup: hypothesis profiles and the device list.

Profiles keep the suite bounded (under 5 minutes on 2 cores with some 5,000
tests, one pytest-xdist worker per core): ``default`` for plain ``pytest``,
``ci`` (chosen when the CI environment variable is set) with the same count,
derandomized so a CI run is repeatable, and ``thorough`` for a long local hunt
(HYPOTHESIS_PROFILE=thorough, 500 examples per test).
"""

import os

if os.environ.get("PYTEST_XDIST_WORKER"):
    # one worker per core already (pyproject's addopts): BLAS threads on top would oversubscribe the
    # cores, and a multi-threaded GEMM on a busy core slows down many-fold. Set before NumPy loads.
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import pytest
from hypothesis import HealthCheck, settings

import minigrad

settings.register_profile("default", max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default"))

DEVICES = ["cpu"] + (["cuda"] if minigrad.cuda_is_available() else [])


@pytest.fixture(params=["cpu", "cuda"])
def device(request):
    """Every available device; cuda tests skip where CuPy or a GPU is missing."""
    if request.param == "cuda" and "cuda" not in DEVICES:
        pytest.skip("no CUDA device (CuPy and a GPU are needed)")
    return request.param
