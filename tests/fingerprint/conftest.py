"""Fixtures of the fingerprint tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def no_shipped_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Hide iotscope's shipped rules, so a test sees only the databases it loads itself."""
    empty = tmp_path / "no-shipped-rules"
    empty.mkdir()
    monkeypatch.setattr("iotscope.fingerprint._engine.RULES_DIR", empty)
    return empty
