"""Delivery: real SMTP to an aiosmtpd mailbox on 127.0.0.1, and the API (own ISP only)."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from iotscope.report import report_isps
from iotscope.service import create_app
from iotscope.store import Store
from iotscope.store import _attribution as sa
from iotscope.store._tokens import mint_token
from tests.report.conftest import DAY

aiosmtpd = pytest.importorskip("aiosmtpd", reason="aiosmtpd not installed")


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[_Mailbox, int]]:
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # a free port (the Controller checks it by connecting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = _Mailbox()
    ctl = Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield box, port
    finally:
        ctl.stop()


@pytest.mark.network
def test_mail_to_each_isps_abuse_desk(
    filled: tuple[Store, dict[str, str]], mailbox: tuple[_Mailbox, int]
) -> None:
    store, _ = filled
    box, port = mailbox
    files = report_isps(store, DAY.date(), smtp=("127.0.0.1", port))
    by_to = {rcpt[0]: msg for _, rcpt, msg in box.messages}
    assert set(by_to) == {"abuse@sakura.example", "soc@kumo.example"}
    ja = by_to["abuse@sakura.example"]
    assert "レポート" in str(ja["Subject"]) and "2026-11-04" in str(ja["Subject"])
    attached = {p.get_filename(): p.get_content() for p in ja.iter_attachments()}
    mine = {f.filename: f.content for f in files if f.isp == "Sakura Hikari Net"}
    assert set(attached) == set(mine)
    for name, content in attached.items():
        data = content if isinstance(content, bytes) else content.encode()
        assert data.replace(b"\r\n", b"\n") == mine[name]
    en = by_to["soc@kumo.example"]
    assert "reports for Kumo Broadband" in str(en["Subject"]) and "2026-W45" in str(en["Subject"])
    assert not any(f.isp == "Sakura Hikari Net" for f in files if f.filename in {
        p.get_filename() for p in en.iter_attachments()})  # fmt: skip
    sent = [d for d in sa.deliveries(store, "Sakura Hikari Net") if d["channel"] == "email"]
    assert {d["filename"] for d in sent} == set(mine)


def test_api_lists_and_serves_only_own_reports(filled: tuple[Store, dict[str, str]]) -> None:
    store, tokens = filled
    files = report_isps(store, DAY.date())
    client = TestClient(create_app(store))
    sakura = {"Authorization": f"Bearer {tokens['Sakura Hikari Net']}"}
    kumo = {"Authorization": f"Bearer {tokens['Kumo Broadband']}"}
    own = client.get("/reports/", headers=sakura)
    assert own.status_code == 200
    assert {r["filename"] for r in own.json()} == {
        f.filename for f in files if f.isp == "Sakura Hikari Net"
    }
    name = next(f.filename for f in files if f.isp == "Sakura Hikari Net")
    got = client.get(f"/reports/Sakura Hikari Net/{name}", headers=sakura)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert got.content == next(f.content for f in files if f.filename == name)
    assert client.get(f"/reports/Sakura Hikari Net/{name}", headers=kumo).status_code == 403
    assert client.get("/reports/Sakura Hikari Net/", headers=kumo).status_code == 403
    assert client.get("/reports/Kumo Broadband/nope.csv", headers=kumo).status_code == 404
    assert client.get(f"/reports/Sakura Hikari Net/{name}").status_code == 401
    centre = {"Authorization": f"Bearer {mint_token(store.engine, 'centre')}"}
    assert client.get("/reports/Kumo Broadband/", headers=centre).status_code == 200
    api = [d for d in sa.deliveries(store, "Sakura Hikari Net") if d["channel"] == "api"]
    assert [d["filename"] for d in api] == [name]


def test_cli_writes_files(filled: tuple[Store, dict[str, str]], tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from iotscope.cli import app

    store, _ = filled
    url = str(store.engine.url)
    out = tmp_path / "cli-out"
    env = {"IOTSCOPE_DATABASE_URL": url}
    res = CliRunner().invoke(
        app,
        ["report", "isp", "--isp", "Kumo Broadband", "--day", "2026-11-04", "--out", str(out)],
        env=env,
    )
    assert res.exit_code == 0, res.output
    assert [p.name for p in out.iterdir()] == [
        "2026-11-02-scan_telnet-kumo_broadband-isp-weekly.csv"
    ]
    bad = CliRunner().invoke(app, ["report", "isp", "--isp", "Nobody", "--out", str(out)], env=env)
    assert bad.exit_code != 0
