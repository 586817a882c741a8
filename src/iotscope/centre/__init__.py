"""The integrated analysis centre (issue 10): views over the store, served under ``/centre/``.

- :mod:`iotscope.centre._views`: :class:`View` (tables and charts for one caller), the
  :func:`view` registry; each area registers its views in a module named in ``VIEW_MODULES``.
- :func:`router`: the JSON API (``/centre/api/views/...``, CSV per table) and the pages
  (:mod:`iotscope.centre._pages`: sign-in, the index, one page per view).
"""

from __future__ import annotations

from fastapi import APIRouter

from iotscope.centre._views import Chart, Table, View, ViewSpec, registry, view, views_for
from iotscope.store import Store

__all__ = ["Chart", "Table", "View", "ViewSpec", "registry", "router", "view", "views_for"]


def router(store: Store) -> APIRouter:
    """Every route of the centre over ``store``."""
    from iotscope.centre._api import api_router
    from iotscope.centre._pages import pages_router

    api = APIRouter()
    api.include_router(api_router(store))
    api.include_router(pages_router(store))
    return api
