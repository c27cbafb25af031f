"""Shared fixtures of the Python unit tests."""

from __future__ import annotations

import pytest
import torch

from rramcim.analog.device import DeviceConfig, load_device


@pytest.fixture(scope="session", autouse=True)
def _threads() -> None:
    # one intra-op thread per worker: `make test` runs two workers on two cores, and with two
    # threads each the workers oversubscribe the cores (measured 3-10x slower)
    torch.set_num_threads(1)


@pytest.fixture()
def dev40() -> DeviceConfig:
    """The 40 nm preset as shipped."""
    return load_device("rram_40nm")


@pytest.fixture()
def ideal_dev(dev40: DeviceConfig) -> DeviceConfig:
    """The 40 nm window with every non-ideality switched off."""
    return dev40.ideal()
