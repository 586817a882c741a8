"""The service: one FastAPI app (``iotscope serve``) over the store, one auth layer.

Parts add routers (see ``_app.ROUTERS``); they import :mod:`iotscope.service.auth` for the caller.
The names below are loaded on first use, so ``iotscope --help`` does not import FastAPI.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from iotscope.service._app import create_app
    from iotscope.service.auth import current_principal, require_role
    from iotscope.tenancy import Principal

__all__ = ["Principal", "create_app", "current_principal", "require_role"]

_HOMES = {
    "create_app": "iotscope.service._app",
    "current_principal": "iotscope.service.auth",
    "require_role": "iotscope.service.auth",
    "Principal": "iotscope.tenancy",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(name)
