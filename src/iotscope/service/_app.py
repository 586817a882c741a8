"""The one ASGI application: each part that talks HTTP contributes a router.

``ROUTERS`` lists ``module:function`` names; each function takes the store and returns an
``APIRouter``. They are imported when the app is built, so this module imports no part itself.
"""

from __future__ import annotations

import importlib

from fastapi import FastAPI

from iotscope import __version__
from iotscope.store import Store

ROUTERS: tuple[str, ...] = (
    "iotscope.share:router",  # the TAXII 2.1 hub (issue 9)
    "iotscope.followup:router",  # follow-up effect, open refusal cases (issue 8)
    "iotscope.report:router",  # ISP report files (issue 8)
    "iotscope.notify:router",  # subscriber landing pages, the ISP notice API (issue 8)
    "iotscope.centre:router",  # the analysis centre: pages and JSON API (issue 10)
    "iotscope.makers:router",  # a manufacturer's report as PDF (issue 10)
)


def create_app(store: Store) -> FastAPI:
    """The API over ``store``: /healthz plus every part's router."""
    app = FastAPI(title="iotscope", version=__version__)
    app.state.store = store

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, str]:
        """Liveness: answers without a token."""
        return {"status": "ok", "version": __version__}

    for spec in ROUTERS:
        module, _, name = spec.partition(":")
        factory = getattr(importlib.import_module(module), name)
        app.include_router(factory(store))
    return app
