"""A manufacturer's report as PDF over HTTP: ``GET /centre/api/makers/report.pdf``
(``?lang=ja|en``, ``?round=SURVEY_ID``, ``?vendor=NAME`` for the centre and ISPs).

The same bearer tokens as the rest of the API. A manufacturer always gets its own report (a
``vendor`` it asks for is ignored); an ISP a vendor's report over its own network's devices;
the centre any vendor's; a partner nothing (403).
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response

from iotscope.errors import ConfigError
from iotscope.service.auth import current_principal
from iotscope.store import Store
from iotscope.tenancy import Principal


def router(store: Store) -> APIRouter:
    """The PDF route; also starts building the device table the centre's manufacturer views
    read (``_frame.warm``), so the first of those pages is as fast as the rest."""
    from iotscope.makers._frame import warm

    warm(store)
    api = APIRouter(prefix="/centre/api/makers", tags=["centre"])

    @api.get("/report.pdf")
    def report_pdf(
        vendor: str | None = None,
        lang: str = "ja",
        round: str | None = None,
        who: Principal = Depends(current_principal),
    ) -> Response:
        """One vendor's report (models, firmware, CVEs, infections, trend, labels) as PDF."""
        from iotscope.makers._frame import load_devices
        from iotscope.makers._pdf import report_pdf as render
        from iotscope.makers._registry import load_labels
        from iotscope.makers._report import vendor_report

        if who.role == "partner":
            raise HTTPException(403, "this role may not open manufacturer reports")
        if lang not in ("ja", "en"):
            raise HTTPException(422, "lang must be ja or en")
        name = who.tenant if who.role == "manufacturer" else vendor
        if not name:
            raise HTTPException(422, "vendor is required")
        try:
            rep = vendor_report(load_devices(store, who), name, load_labels(store), round)
            pdf = render(rep, lang, datetime.now(UTC))  # type: ignore[arg-type]
        except ConfigError as exc:
            raise HTTPException(404, str(exc)) from None
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": 'attachment; filename="maker-report.pdf"'},
        )

    return api
