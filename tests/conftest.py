"""Session fixtures: one small baseline and one small plan run, shared by tests."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import run, scenario


@pytest.fixture(scope="session")
def baseline_series() -> pd.DataFrame:
    return run(scenario("baseline.yaml"))


@pytest.fixture(scope="session")
def plan_series() -> pd.DataFrame:
    return run(scenario("plan.yaml"))
