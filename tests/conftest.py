"""Shared test setup: hypothesis profiles and the device list.

Profiles keep the suite bounded: ``default`` for local runs, ``ci`` (chosen
when the CI environment variable is set) with fewer examples, ``thorough``
for a long local hunt (HYPOTHESIS_PROFILE=thorough).
"""

import os

import pytest
from hypothesis import HealthCheck, settings

import minigrad

settings.register_profile("default", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
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
