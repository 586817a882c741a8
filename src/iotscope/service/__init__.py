"""The service: one FastAPI app (``iotscope serve``) over the store, one auth layer.

Parts add routers (see ``_app.ROUTERS``); they import :mod:`iotscope.service.auth` for the caller.
"""

from __future__ import annotations

from iotscope.service._app import create_app
from iotscope.service.auth import current_principal, require_role
from iotscope.tenancy import Principal

__all__ = ["Principal", "create_app", "current_principal", "require_role"]
