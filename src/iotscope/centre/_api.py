"""The centre's JSON API: every view as JSON and each of its tables as CSV (``/centre/api/``).

The pages under ``/centre/`` are drawn from the same views, so the numbers shown and the
numbers served are one computation.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from iotscope.centre._views import View, registry, views_for
from iotscope.service.auth import current_principal
from iotscope.store import Store
from iotscope.tenancy import Principal


def compute(store: Store, who: Principal, name: str, params: dict[str, str]) -> View:
    """The view ``name`` for ``who``: 404 when unknown, 403 when the role may not open it."""
    spec = registry().get(name)
    if spec is None:
        raise HTTPException(404, "no such view")
    if who.role not in spec.roles:
        raise HTTPException(403, "this role may not open this view")
    return spec.fn(store, who, params)


def table_csv(v: View, table: str) -> str:
    """One table of a view as CSV text (header row first)."""
    try:
        t = v.table(table)
    except KeyError:
        raise HTTPException(404, "the view has no such table") from None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(t.columns)
    writer.writerows(t.rows)
    return out.getvalue()


def api_router(store: Store) -> APIRouter:
    api = APIRouter(prefix="/centre/api", tags=["centre"])

    @api.get("/views")
    def list_views(who: Principal = Depends(current_principal)) -> list[dict[str, Any]]:
        """The views this caller may open."""
        return [
            {"name": s.name, "title_en": s.title_en, "title_ja": s.title_ja} for s in views_for(who)
        ]

    @api.get("/views/{name}")
    def get_view(
        name: str, request: Request, who: Principal = Depends(current_principal)
    ) -> dict[str, Any]:
        """A view's tables and charts; query parameters are passed to the view."""
        return compute(store, who, name, dict(request.query_params)).to_json()

    @api.get("/views/{name}/{table}.csv")
    def get_csv(
        name: str, table: str, request: Request, who: Principal = Depends(current_principal)
    ) -> Response:
        """One table of a view as CSV."""
        v = compute(store, who, name, dict(request.query_params))
        return Response(
            table_csv(v, table),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}-{table}.csv"'},
        )

    return api
