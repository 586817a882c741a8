"""Times given on the command line: ISO 8601, read as UTC when no offset is given."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

from iotscope.errors import ConfigError


def utc_option(value: str | None, option: str = "--now") -> datetime:
    """``value`` as an aware UTC-or-offset time; ``None`` is now. A bad value is a
    :class:`ConfigError` naming ``option``."""
    if value is None:
        return datetime.now(UTC)
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"{option} must be an ISO 8601 time", value=value) from exc
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@overload
def stored_utc(t: datetime) -> datetime: ...
@overload
def stored_utc(t: None) -> None: ...
def stored_utc(t: datetime | None) -> datetime | None:
    """A time read from the store, aware: SQLite hands back naive datetimes for timezone-aware
    columns, and they were written in UTC."""
    return t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t
