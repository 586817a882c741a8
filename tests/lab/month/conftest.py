"""A small month world, built once per module that asks for it."""

from __future__ import annotations

from typing import Any

import pytest

from iotscope.lab.month import MonthWorld, generate, truth


@pytest.fixture(scope="package")
def world() -> MonthWorld:
    return generate(11, devices=300, isps=5, days=14)


@pytest.fixture(scope="package")
def facts(world: MonthWorld) -> dict[str, Any]:
    return truth(world)
