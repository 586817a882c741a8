"""The shipped credential list and the CSV reader for user lists."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from iotscope.errors import ConfigError
from iotscope.knowledge import CredentialEntry, load_credentials_file, load_default_credentials

HEADER = "id,protocols,username,password,source\n"


def test_default_list_has_every_mirai_pair(shared_data: Path) -> None:
    with (shared_data / "credentials" / "mirai-2016.csv").open(newline="") as f:
        mirai = {(row["username"], row["password"]) for row in csv.DictReader(f)}
    entries = load_default_credentials()
    pairs = {(e.username, e.password) for e in entries if "telnet" in e.protocols}
    assert len(mirai) == 61
    assert mirai <= pairs
    mirai_ids = [e for e in entries if e.id.startswith("mirai-2016#")]
    assert {(e.username, e.password) for e in mirai_ids} == mirai


def test_mirai_weights_are_recorded_with_their_source(shared_data: Path) -> None:
    weights: dict[tuple[str, str], float] = {}
    with (shared_data / "credentials" / "mirai-2016.csv").open(newline="") as f:
        for row in csv.DictReader(f):  # a pair Mirai lists twice counts twice
            key = (row["username"], row["password"])
            weights[key] = weights.get(key, 0) + float(row["weight"])
    mirai = [e for e in load_default_credentials() if e.id.startswith("mirai-2016#")]
    assert {(e.username, e.password): e.weight for e in mirai} == weights
    assert all("add_auth_entry" in e.source and "weight" in e.source for e in mirai)
    others = [e for e in load_default_credentials() if not e.id.startswith("mirai-2016#")]
    assert all(e.weight is None for e in others)  # no public figure: unknown, not invented


def test_weight_column_is_optional_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text(
        "id,protocols,username,password,source,vendors,weight\n"
        "a#1,telnet,root,x,src,,2.5\nb#1,telnet,root,y,src,acme,\nc#1,telnet,root,z,src\n"
    )
    assert [e.weight for e in load_credentials_file(path)] == [2.5, None, None]
    for bad in ("heavy", "-1", "nan", "inf"):
        path.write_text(f"a#1,telnet,root,x,src,,{bad}\n")
        with pytest.raises(ConfigError, match="weight"):
            load_credentials_file(path)


def test_default_list_shape() -> None:
    entries = load_default_credentials()
    assert 100 <= len(entries) <= 200
    assert len({e.id for e in entries}) == len(entries)
    assert all(e.source.strip() for e in entries)
    assert any(e.password == "" for e in entries)
    assert {p for e in entries for p in e.protocols} == {"telnet", "ssh", "http", "mqtt", "rtsp"}


def test_no_pair_is_tried_twice_on_a_protocol() -> None:
    keys = [(p, e.username, e.password) for e in load_default_credentials() for p in e.protocols]
    assert len(keys) == len(set(keys))


def test_default_list_is_ordered_by_likelihood() -> None:
    first = load_default_credentials()[:4]
    assert [(e.username, e.password) for e in first][:2] == [("root", "xc3511"), ("root", "vizxv")]


def test_entry_is_frozen_and_strict() -> None:
    entry = CredentialEntry(
        id="x#1", protocols=("telnet",), username="root", password="", source="manual"
    )
    with pytest.raises(ValidationError):
        entry.username = "admin"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        CredentialEntry(id="x", protocols=("ftp",), username="a", password="b", source="s")
    with pytest.raises(ValidationError):
        CredentialEntry.model_validate(
            {
                "id": "x",
                "protocols": ("ssh",),
                "username": "a",
                "password": "",
                "source": "s",
                "z": 1,
            }
        )


def test_user_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "creds.csv"
    path.write_text(
        HEADER + "# comment line\n"
        'mine#1,telnet|ssh,root,"pa,ss",isp list\n'
        "mine#2,mqtt,admin,,isp list\n"
    )
    entries = load_credentials_file(path)
    assert [(e.id, e.protocols, e.password) for e in entries] == [
        ("mine#1", ("telnet", "ssh"), "pa,ss"),
        ("mine#2", ("mqtt",), ""),
    ]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("a#1,telnet,root\n", "columns"),
        ("a#1,gopher,root,x,src\n", "protocols"),
        ("a#1,,root,x,src\n", "protocols"),
        (",telnet,root,x,src\n", "empty"),
        ("a#1,telnet,root,x,\n", "empty"),
    ],
)
def test_bad_line_names_file_and_line(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "ok#1,telnet,root,root,src\n" + line)
    with pytest.raises(ConfigError) as info:
        load_credentials_file(path)
    assert info.value.data["file"] == str(path)
    assert info.value.data["line"] == 3
    assert reason in str(info.value)


def test_duplicate_id_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text(HEADER + "a#1,telnet,root,root,src\na#1,ssh,root,toor,src\n")
    with pytest.raises(ConfigError, match="duplicate"):
        load_credentials_file(path)


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_credentials_file(tmp_path / "missing.csv")
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError):
        load_credentials_file(binary)


@given(st.binary(max_size=300))
def test_any_bytes_load_or_raise_config_error(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv"
        path.write_bytes(data)
        try:
            entries = load_credentials_file(path)
        except ConfigError:
            return
        assert all(isinstance(e, CredentialEntry) for e in entries)


def test_every_catalog_default_is_tagged_with_its_vendor() -> None:
    """The survey tries an identified vendor's defaults first (lockouts allow few tries)."""
    from iotscope.lab._catalog import load_catalog

    tagged = {
        (proto, e.username, e.password, vendor)
        for e in load_default_credentials()
        for proto in e.protocols
        for vendor in e.vendors
    }
    missing = [
        (p.id, d.protocol, d.username)
        for p in load_catalog().profiles
        for d in p.defaults
        if d.username is not None
        and (d.protocol, d.username, d.password or "", p.vendor.lower()) not in tagged
    ]
    assert missing == []


def test_vendors_column_is_optional(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("a#1,telnet,root,x,manual\na#2,telnet,root,y,manual,Dahua|XiongMai\n")
    first, second = load_credentials_file(path)
    assert first.vendors == () and second.vendors == ("dahua", "xiongmai")
