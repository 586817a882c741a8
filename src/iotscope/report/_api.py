"""The reports API: an ISP lists and fetches its own report files; the centre any ISP's.

``GET /reports/`` (the caller's own ISP), ``GET /reports/{isp}/`` and
``GET /reports/{isp}/{filename}`` (the CSV). Another ISP's reports are 403, an unknown file 404.
Each download is recorded as an ``api`` delivery.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Response

from iotscope.service.auth import current_principal
from iotscope.store import Store
from iotscope.store import _attribution as sa
from iotscope.tenancy import Principal


def _listing(store: Store, isp: str) -> list[dict[str, Any]]:
    return [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
        for r in sa.report_rows(store, isp)
    ]


def router(store: Store) -> APIRouter:
    """The ``/reports`` routes over ``store``."""
    api = APIRouter(prefix="/reports", tags=["reports"])

    def _check(principal: Principal, isp: str) -> None:
        if not principal.isp(isp):
            raise HTTPException(status_code=403, detail="reports belong to their ISP")

    @api.get("/")
    def own_reports(principal: Principal = Depends(current_principal)) -> list[dict[str, Any]]:
        """The caller's own ISP's report files (newest period first)."""
        if principal.role != "isp" or principal.tenant is None:
            raise HTTPException(status_code=403, detail="an ISP token is needed here")
        return _listing(store, principal.tenant)

    @api.get("/{isp}/")
    def isp_reports(
        isp: str, principal: Principal = Depends(current_principal)
    ) -> list[dict[str, Any]]:
        """One ISP's report files (that ISP or the centre)."""
        _check(principal, isp)
        return _listing(store, isp)

    @api.get("/{isp}/{filename}")
    def download(
        isp: str, filename: str, principal: Principal = Depends(current_principal)
    ) -> Response:
        """One report file as CSV."""
        _check(principal, isp)
        rows = sa.report_rows(store, isp, filename, with_content=True)
        if not rows:
            raise HTTPException(status_code=404, detail="no such report")
        sa.save_delivery(store, isp, [filename], "api", f"token:{principal.token_id or '-'}")
        return Response(
            content=rows[0]["content"],
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    return api
