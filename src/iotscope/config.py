"""One typed settings object: defaults < settings file < ``IOTSCOPE_*`` environment.

``IOTSCOPE_HOME`` (default ``./var``) holds the embedded database, Parquet data and reports.
``IOTSCOPE_DATABASE_URL`` selects the store (default: SQLite file under the home).
``IOTSCOPE_CONFIG`` names an optional TOML settings file.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from iotscope.errors import ConfigError


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IOTSCOPE_", extra="ignore", frozen=True)

    home: Path = Field(default=Path("var"), description="data directory")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL of the store")
    nmap_probes: str = Field(
        default="auto", description="nmap-service-probes for identification: auto, off or a path"
    )

    @property
    def db_url(self) -> str:
        """The store URL: the configured one, else SQLite under ``home``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'iotscope.db').resolve()}"

    @property
    def flows_dir(self) -> Path:
        return self.home / "flows"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"


def _file_values() -> dict[str, Any]:
    path = os.environ.get("IOTSCOPE_CONFIG")
    if not path:
        return {}
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("cannot read settings file", path=path, reason=str(exc)) from exc


def load_settings() -> Settings:
    """Build settings fresh: file values first, then the environment overrides them."""
    file_values = _file_values()
    env_set = {k for k in Settings.model_fields if f"IOTSCOPE_{k.upper()}" in os.environ}
    base = {k: v for k, v in file_values.items() if k not in env_set}
    return Settings(**base)


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings (cached; tests call ``settings.cache_clear()``)."""
    return load_settings()
