"""HTTP: an ISP's follow-up effect and its open refusal cases (JSON, bearer token).

``GET /isp/{isp}/follow-up/effect``: the effect per channel/variant (as ``estimate``);
``GET /isp/{isp}/cases``: the open refusal cases. The caller must be that ISP or the centre
(403 otherwise): tenancy is checked in the store functions, not only here.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException

from iotscope.followup._effect import estimate
from iotscope.followup._model import AccessError
from iotscope.followup._store import checks, subjects
from iotscope.service.auth import current_principal
from iotscope.store import Store
from iotscope.tenancy import Principal


def router(store: Store) -> APIRouter:
    api = APIRouter(tags=["follow-up"])

    @api.get("/isp/{isp}/follow-up/effect")
    def effect(isp: str, who: Principal = Depends(current_principal)) -> dict[str, Any]:
        """The measured effect of the ISP's notices at its latest follow-up round."""
        try:
            done = checks(store, who, isp)
            if not done:
                raise HTTPException(404, "no follow-up round yet")
            return estimate(subjects(store, who, isp), done).to_json()
        except AccessError as exc:
            raise HTTPException(403, "not this ISP's data") from exc

    @api.get("/isp/{isp}/cases")
    def open_cases_route(isp: str, who: Principal = Depends(current_principal)) -> list[
            dict[str, Any]]:  # fmt: skip
        """The ISP's open connection-refusal cases."""
        from iotscope.cases import open_cases

        try:
            found = open_cases(store, who, isp)
        except AccessError as exc:
            raise HTTPException(403, "not this ISP's data") from exc
        return [{"id": c.id, "subscriber_id": c.subscriber_id, "criteria": c.criteria,
                 "opened": c.opened.isoformat(), "status": c.state.status,
                 "approvers": list(c.state.approvers),
                 "deadline": c.state.deadline.isoformat() if c.state.deadline else None}
                for c in found]  # fmt: skip

    return api
