"""The service skeleton: /healthz without a token, tokens stored hashed, roles and tenants."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from iotscope.cli import app as cli_app
from iotscope.errors import ConfigError
from iotscope.service import Principal, create_app, current_principal, require_role
from iotscope.service.cli import parse_listen
from iotscope.store import Store, open_store
from iotscope.store._schema_service import api_tokens
from iotscope.store._tokens import list_tokens, mint_token, resolve_token, revoke_token


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")


def _app_with_probe(store: Store) -> TestClient:
    app = create_app(store)
    probe = APIRouter()

    @probe.get("/whoami")
    def whoami(p: Principal = Depends(current_principal)) -> dict[str, str | None]:
        return {"role": p.role, "tenant": p.tenant}

    @probe.get("/centre-only")
    def centre_only(p: Principal = Depends(require_role("centre"))) -> dict[str, str]:
        return {"ok": p.role}

    app.include_router(probe)
    return TestClient(app)


def test_healthz_needs_no_token(store: Store) -> None:
    client = TestClient(create_app(store))
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_token_is_stored_hashed_and_resolves(store: Store) -> None:
    token = mint_token(store.engine, "isp", "Kumo Broadband", "soc")
    with store.engine.connect() as conn:
        row = conn.execute(select(api_tokens)).one()
    assert token not in str(dict(row._mapping))
    assert row.hash != token and len(row.hash) == 64
    assert resolve_token(store.engine, token) == Principal("isp", "Kumo Broadband", row.id)
    assert resolve_token(store.engine, token + "x") is None
    assert resolve_token(store.engine, "garbage") is None
    assert "hash" not in list_tokens(store.engine)[0]


def test_bearer_cookie_revocation_and_roles(store: Store) -> None:
    client = _app_with_probe(store)
    isp = mint_token(store.engine, "isp", "Kumo Broadband")
    centre = mint_token(store.engine, "centre")
    assert client.get("/whoami").status_code == 401
    assert "Bearer" in client.get("/whoami").headers["www-authenticate"]
    assert client.get("/whoami", headers={"Authorization": "Bearer nope"}).status_code == 401
    r = client.get("/whoami", headers={"Authorization": f"Bearer {isp}"})
    assert r.json() == {"role": "isp", "tenant": "Kumo Broadband"}
    client.cookies.set("iotscope_token", centre)
    assert client.get("/whoami").json() == {"role": "centre", "tenant": None}
    client.cookies.clear()
    assert client.get("/centre-only", headers={"Authorization": f"Bearer {isp}"}).status_code == 403
    assert (
        client.get("/centre-only", headers={"Authorization": f"Bearer {centre}"}).status_code == 200
    )
    token_id = isp.split("_")[1]
    assert revoke_token(store.engine, token_id)
    assert not revoke_token(store.engine, token_id)
    assert client.get("/whoami", headers={"Authorization": f"Bearer {isp}"}).status_code == 401


def test_roles_and_tenants_are_checked() -> None:
    with pytest.raises(ValueError):
        Principal("isp")
    with pytest.raises(ValueError):
        Principal("admin")  # type: ignore[arg-type]
    isp = Principal("isp", "A")
    assert isp.owns("A") and not isp.owns("B") and isp.owns(None)
    assert Principal("centre").owns("B")
    assert not Principal("partner").owns("A")


def test_mint_refuses_bad_role_or_missing_tenant(store: Store) -> None:
    with pytest.raises(ConfigError):
        mint_token(store.engine, "isp")
    with pytest.raises(ConfigError):
        mint_token(store.engine, "root")  # type: ignore[arg-type]


def test_cli_token_create_list_revoke() -> None:
    runner = CliRunner()
    r = runner.invoke(cli_app, ["token", "create", "--role", "partner", "--label", "cert"])
    assert r.exit_code == 0, r.output
    token = r.output.strip()
    assert token.startswith("iots_")
    listed = runner.invoke(cli_app, ["token", "list"])
    assert token.split("_")[1] in listed.output and token not in listed.output
    assert runner.invoke(cli_app, ["token", "revoke", token.split("_")[1]]).exit_code == 0


def test_parse_listen() -> None:
    assert parse_listen("127.0.0.1:8443") == ("127.0.0.1", 8443)
    assert parse_listen("[::1]:80") == ("::1", 80)
    for bad in ("8000", "host:", "h:99999", "h:x"):
        with pytest.raises(ConfigError):
            parse_listen(bad)
