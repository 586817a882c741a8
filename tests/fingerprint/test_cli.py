"""`iotscope fingerprint match|verify` through typer's CliRunner."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from iotscope.fingerprint.cli import app, read_banners

runner = CliRunner()


@pytest.mark.usefixtures("no_shipped_rules")
def test_match_reads_json_and_raw_lines(shared_data: Path) -> None:
    db = str(shared_data / "recog" / "telnet_banners.xml")
    stdin = "\n".join(
        [
            json.dumps("MikroTik v6.42.3 (stable)\r\nLogin: "),
            "login:",
            "{not json",
            "",
            '"nothing"',
            "42",
        ]
    )
    result = runner.invoke(app, ["match", "--service", "telnet", "--db", db], input=stdin + "\n")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["input"] for r in records] == [
        "MikroTik v6.42.3 (stable)\r\nLogin: ",
        "login:",
        "{not json",
        "nothing",
        "42",
    ]
    mikrotik, login, bad, nothing, number = records
    assert mikrotik["identity"]["vendor"] == "MikroTik"
    assert set(mikrotik["identity"]) == {
        "vendor",
        "product",
        "model",
        "version",
        "device_type",
        "cpe",
    }
    assert mikrotik["params"]["os.version"] == "6.42.3"
    assert mikrotik["rule"] == "MikroTik RouterOS"
    assert login["identity"] is None and login["params"]["hw.certainty"] == "0.0"
    for miss in (bad, nothing, number):
        assert miss["identity"] is None and miss["params"] is None and miss["rule"] is None
    assert "matched 2, unmatched 3, raw 3, blank 1" in result.stderr


def test_match_with_undecodable_bytes_never_crashes() -> None:
    result = runner.invoke(app, ["match", "--service", "telnet"], input=b"\xff\xfe\x00junk\n")
    assert result.exit_code == 0
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["input"] == "\xff\xfe\x00junk"


def test_verify_ok_and_failing(tmp_path: Path, shared_data: Path) -> None:
    ok = runner.invoke(app, ["verify", str(shared_data / "recog" / "telnet_banners.xml")])
    assert ok.exit_code == 0
    assert "179 examples checked, 0 failures" in ok.stdout
    bad = tmp_path / "bad.xml"
    bad.write_text(
        '<fingerprints><fingerprint pattern="^A(\\d)"><description>A</description>'
        '<example v="2">A1</example><param pos="1" name="v"/></fingerprint></fingerprints>'
    )
    failed = runner.invoke(app, ["verify", str(bad)])
    assert failed.exit_code == 1
    assert "FAIL 'A': example 'A1': expected v='2'; got v='1'" in failed.stdout
    assert "1 failures" in failed.stdout


@given(st.lists(st.binary(max_size=60), max_size=8))
def test_read_banners_takes_any_bytes(lines: list[bytes]) -> None:
    counts: Counter[str] = Counter()
    data = b"\n".join(line.replace(b"\n", b" ") for line in lines)
    banners = list(read_banners(io.BytesIO(data), counts))
    assert len(banners) == counts["json"] + counts["raw"]
    assert all(isinstance(b, str) for b in banners)


def test_verify_a_folder_checks_every_file(tmp_path: Path) -> None:
    good = (
        '<fingerprints><fingerprint pattern="^A"><example>A</example></fingerprint></fingerprints>'
    )
    (tmp_path / "a.xml").write_text(good)
    (tmp_path / "b.xml").write_text(good.replace("<example>A", "<example>B"))
    result = runner.invoke(app, ["verify", str(tmp_path)])
    assert result.exit_code == 1
    assert "a.xml: 1 fingerprints, 1 examples checked, 0 failures" in result.stdout
    assert "b.xml: 1 fingerprints, 1 examples checked, 1 failures" in result.stdout


def test_match_reports_skipped_rules(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text(
        '<fingerprints matches="telnet.banner"><fingerprint pattern="(x">'
        "<description>broken</description></fingerprint></fingerprints>"
    )
    result = runner.invoke(app, ["match", "--service", "telnet", "--db", str(bad)], input="x\n")
    assert result.exit_code == 0
    assert "skipped rule: bad fingerprint regex" in result.stderr
    assert "#1 broken" in result.stderr
    assert "rules skipped (bad regex) 1" in result.stderr


def test_match_uses_nmap_probes_unless_told_not_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    probes = tmp_path / "probes"
    probes.write_text("match telnet m|^Zork box| p/Zork telnetd/ cpe:/h:zork:box/\n")
    monkeypatch.setenv("IOTSCOPE_NMAP_PROBES", str(probes))
    with_nmap = runner.invoke(app, ["match", "--service", "telnet"], input="Zork box\n")
    without = runner.invoke(app, ["match", "--service", "telnet", "--no-nmap"], input="Zork box\n")
    assert with_nmap.exit_code == 0 and without.exit_code == 0, with_nmap.output
    named = json.loads(with_nmap.stdout.splitlines()[0])
    assert named["identity"]["vendor"] == "zork" and named["database"] == str(probes)
    assert json.loads(without.stdout.splitlines()[0])["identity"] is None
