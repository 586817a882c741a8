"""`iotscope notice ...` end to end on the embedded store: findings in, mail out over SMTP,
letters and lists written, protections proposed and moved; bad input files named by line."""

from __future__ import annotations

import ipaddress
import json
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iotscope.cli import app
from iotscope.errors import ConfigError
from iotscope.records import Finding, Identity, Login
from iotscope.store import open_store
from tests.conftest import FIXED_NOW
from tests.notify.conftest import DOMAIN, ISP
from tests.notify.helpers import smtp_server

runner = CliRunner()


def _findings() -> list[Finding]:
    cam = Identity(
        vendor="Hikvision",
        product="DS-2CD Network Camera",
        model="DS-2CD2032-I",
        device_type="IP Camera",
    )
    return [
        Finding(
            survey_id="s1",
            ip=ipaddress.ip_address("127.77.0.10"),
            port=23,
            service="telnet",
            time=FIXED_NOW,
            identity=cam,
            login=Login(
                protocol="telnet", outcome="accepted", username="admin", credential="mirai-2016#1"
            ),
        ),
        Finding(
            survey_id="s1",
            ip=ipaddress.ip_address("127.77.0.11"),
            port=80,
            service="http",
            time=FIXED_NOW,
            identity=cam,
            cves=("CVE-2017-7921",),
        ),
        Finding(
            survey_id="s1",
            ip=ipaddress.ip_address("127.88.0.1"),
            port=23,
            service="telnet",
            time=FIXED_NOW,
            login=Login(protocol="telnet", outcome="no_auth"),
        ),  # another ISP's address
    ]


def _files(tmp_path: Path) -> tuple[Path, Path]:
    leases = tmp_path / "leases.csv"
    leases.write_text(
        "address,start,end,subscriber_id\n"
        "127.77.0.10,2026-10-01T00:00:00Z,,sub-1\n"
        "127.77.0.11,2026-10-01T00:00:00Z,2026-10-20T00:00:00Z,sub-9\n"
        "127.77.0.11,2026-10-20T00:00:00Z,,sub-2\n"
    )
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "subscriber_id,name,email,phone,postal,language,managed_cpe\n"
        "sub-1,山田 太郎,taro@mail.example,,,ja,false\n"
        "sub-2,,,,〒100-0001 / 東京都千代田区千代田1-1,ja,false\n",
        encoding="utf-8",
    )
    return leases, contacts


@pytest.mark.network
def test_send_end_to_end(tmp_path: Path) -> None:
    open_store().save_findings(_findings())
    leases, contacts = _files(tmp_path)
    r = runner.invoke(
        app, ["notice", "profile", "--isp", ISP, "--domain", DOMAIN, "--name-ja", "さくら光ネット"]
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["notice", "contacts", "import", "--isp", ISP, str(contacts)])
    assert r.exit_code == 0, r.output
    out = tmp_path / "out"
    with smtp_server() as (box, port):
        r = runner.invoke(
            app,
            [
                "notice",
                "send",
                "--isp",
                ISP,
                "--smtp",
                f"127.0.0.1:{port}",
                "--out",
                str(out),
                "--leases",
                str(leases),
                "--prefix",
                "127.77.0.0/16",
                "--seed",
                "1",
            ],
        )
        assert r.exit_code == 0, r.output
    assert len(box.messages) == 1
    msg = message_from_bytes(box.messages[0][2], policy=policy.default)
    assert msg["To"].addresses[0].addr_spec == "taro@mail.example"
    assert len(list((out / "letters").glob("*.pdf"))) == 1  # sub-2 has a postal address only
    r = runner.invoke(app, ["notice", "list", "--isp", ISP, "--out", str(tmp_path / "n.jsonl")])
    rows = [json.loads(x) for x in (tmp_path / "n.jsonl").read_text().splitlines()]
    assert sorted(x["subscriber_id"] for x in rows) == ["sub-1", "sub-2"]  # the lease at the time
    assert all(x["sent"] for x in rows) and "token" not in rows[0]
    r = runner.invoke(
        app, ["notice", "protections", "--isp", ISP, "--out", str(tmp_path / "p.jsonl")]
    )
    prots = [json.loads(x) for x in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert {p["measure"] for p in prots} == {"inbound_filter"}
    r = runner.invoke(
        app, ["notice", "protect", "apply", prots[0]["id"][:12], "--isp", ISP, "--by", "Suzuki"]
    )
    assert r.exit_code == 0 and "applied" in r.output
    again = runner.invoke(
        app,
        [
            "notice",
            "send",
            "--isp",
            ISP,
            "--out",
            str(out),
            "--leases",
            str(leases),
            "--prefix",
            "127.77.0.0/16",
        ],
    )
    assert again.exit_code == 0 and "0 new notices" in again.output


def test_bad_files_name_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "contacts.csv"
    bad.write_text(
        "subscriber_id,name,email,phone,postal,language,managed_cpe\n"
        "sub-1,A,a@mail.example,,,ja,false\n"
        "sub-2,B,not-an-address,,,ja,false\n"
    )
    r = runner.invoke(app, ["notice", "contacts", "import", "--isp", ISP, str(bad)])
    assert isinstance(r.exception, ConfigError)  # cli.main renders it with exit code 2
    assert r.exception.data["line"] == 3 and r.exception.data["file"] == str(bad)
    from iotscope.notify._db import load_contacts
    from iotscope.tenancy import Principal

    assert load_contacts(open_store(), Principal("isp", ISP), ISP) == {}  # nothing half-imported
    leases = tmp_path / "leases.csv"
    leases.write_text("address,start,end,subscriber_id\n127.77.0.1,yesterday,,sub-1\n")
    from iotscope.notify import read_lease_csv

    with pytest.raises(ConfigError) as err:
        read_lease_csv(leases)
    assert err.value.data["line"] == 2 and err.value.data["file"] == str(leases)
