"""``GET /centre/api/makers/report.pdf``: a manufacturer only ever gets its own report."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from fastapi.testclient import TestClient

from iotscope.notify._letter import japanese_font
from iotscope.service import create_app
from iotscope.store import Store
from iotscope.store._tokens import mint_token


def _auth(store: Store, role: str, tenant: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(store.engine, role, tenant)}"}  # type: ignore[arg-type]


def test_report_pdf_roles(world: Store) -> None:
    if japanese_font() is None:
        pytest.skip("no Japanese font (fonts-ipaexfont-gothic)")
    client = TestClient(create_app(world))
    url = "/centre/api/makers/report.pdf"
    r = client.get(f"{url}?vendor=Beta&lang=en", headers=_auth(world, "manufacturer", "Acme"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=r.content, capture_output=True).stdout
        assert b"Acme Corp." in text and b"Beta" not in text and b"B200" not in text
    assert client.get(url, headers=_auth(world, "partner")).status_code == 403
    assert client.get(url, headers=_auth(world, "centre")).status_code == 422
    assert (
        client.get(f"{url}?vendor=acme&round=nope", headers=_auth(world, "centre")).status_code
        == 404
    )
    assert client.get(f"{url}?vendor=acme").status_code == 401
