"""Settings: defaults < settings file < IOTSCOPE_* environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from iotscope.config import load_settings
from iotscope.errors import ConfigError


def test_default_store_is_sqlite_under_home(iotscope_home: Path) -> None:
    s = load_settings()
    assert s.home == iotscope_home
    assert s.db_url == f"sqlite:///{(iotscope_home / 'iotscope.db').resolve()}"


def test_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "iotscope.toml"
    cfg.write_text('home = "/srv/a"\ndatabase_url = "postgresql+psycopg://db/x"\n')
    monkeypatch.setenv("IOTSCOPE_CONFIG", str(cfg))
    monkeypatch.delenv("IOTSCOPE_HOME")
    s = load_settings()
    assert s.home == Path("/srv/a") and s.db_url == "postgresql+psycopg://db/x"
    monkeypatch.setenv("IOTSCOPE_HOME", "/srv/b")
    assert load_settings().home == Path("/srv/b")


def test_bad_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("home = [unclosed")
    monkeypatch.setenv("IOTSCOPE_CONFIG", str(cfg))
    with pytest.raises(ConfigError, match="cannot read settings file"):
        load_settings()
