"""iotscope's few, flat errors. Each carries data; ``cli.main`` renders them in one place.

Third-party exceptions are translated into these at the boundary of the part that calls the
third-party code (httpcore's ``map_exceptions`` habit), so callers catch one family.
"""

from __future__ import annotations


class IotscopeError(Exception):
    """Base of every error iotscope raises on purpose. ``exit_code`` is the CLI's."""

    exit_code = 1

    def __init__(self, message: str, **data: object) -> None:
        super().__init__(message)
        self.message = message
        self.data = data

    def __str__(self) -> str:
        if not self.data:
            return self.message
        extra = ", ".join(f"{k}={v!r}" for k, v in self.data.items())
        return f"{self.message} ({extra})"


class ConfigError(IotscopeError):
    """Bad settings, options or input files given by the user."""

    exit_code = 2


class ScopeError(IotscopeError):
    """An attempt to contact an address outside the survey's scope. Never swallowed."""

    exit_code = 3


class StoreError(IotscopeError):
    """The database could not be reached or refused a write."""


class ParseError(IotscopeError):
    """One bad input item (line, packet, record). Counted and skipped by batch readers."""
