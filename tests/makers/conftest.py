"""The small surveyed world of ``world.py``, built once per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from iotscope.store import Store
from tests.makers.world import open_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    yield from open_world(tmp_path_factory)
