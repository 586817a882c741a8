"""The JC-STAR registry CSV: good lines imported, bad ones counted with their line numbers,
upsert by registration number, any text read without an unexpected exception."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.errors import ConfigError
from iotscope.makers import import_registry, load_labels, parse_level, parse_registry
from iotscope.makers._jcstar import decode
from iotscope.store import open_store

GOOD_AND_BAD = """# JC-STAR registry, exported 2025-06-01
registration,vendor,model,level,registered,expires
JC-0001,Acme Corp.,A-100,★1,2025-05-21,2027-05-20
JC-0002,Acme Corp.,X9,STAR-2,2025/05/21,

JC-0003,Beta Networks Inc.,B200,★5,2025-05-21,2027-05-20
JC-0004,Beta Networks Inc.,B300,★1,2025-13-01,2027-05-20
JC-0005,Beta Networks Inc.,B400,★1,2025-05-21,2024-05-20
JC-0006,,B500,★1,2025-05-21,
JC-0007,Beta
"JC-0008","Gamma, Inc.","G 1","ＳＴＡＲ－３","2025-06-01","2028-06-01"
JC-0001,Acme Corp.,A-100,★2,2025-05-21,2027-05-20
"""


def test_good_lines_imported_bad_lines_reported_with_numbers() -> None:
    p = parse_registry(GOOD_AND_BAD)
    assert p.lines == 9 and len(p.labels) + len(p.bad) == p.lines  # nothing lost
    got = {x.registration: x for x in p.labels}
    assert sorted(got) == ["JC-0001", "JC-0002", "JC-0008"]
    assert got["JC-0001"].level == 2  # the later line of a repeated registration wins
    assert got["JC-0002"].expires is None and got["JC-0002"].registered == date(2025, 5, 21)
    assert got["JC-0008"].vendor == "Gamma, Inc." and got["JC-0008"].level == 3
    bad = {b.line: b.reason for b in p.bad}
    assert sorted(bad) == [3, 6, 7, 8, 9, 10]
    assert "level" in bad[6] and "date" in bad[7] and "before" in bad[8]
    assert "vendor" in bad[9] and "fields" in bad[10] and "line 12" in bad[3]


@pytest.mark.parametrize(
    ("text", "level"),
    [("★1", 1), ("★★★", 3), ("STAR-4", 4), ("star2", 2), ("2", 2), ("Level 3", 3),
     ("レベル1", 1), ("★２", 2)],
)  # fmt: skip
def test_level_spellings(text: str, level: int) -> None:
    assert parse_level(text) == level


def test_missing_header_column_is_an_error() -> None:
    with pytest.raises(ConfigError, match="lacks columns"):
        parse_registry("registration,vendor,model\nJC-1,a,b\n")


def test_shift_jis_and_bom() -> None:
    text = "registration,vendor,model,level,registered\nJC-9,株式会社アクメ,A-1,★1,2025-05-21\n"
    for data in (text.encode("cp932"), b"\xef\xbb\xbf" + text.encode()):
        labels = parse_registry(decode(data)).labels
        assert [(x.vendor, x.product[0]) for x in labels] == [("株式会社アクメ", "アクメ")]


def test_import_upserts_by_registration(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    path = tmp_path / "registry.csv"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    first = import_registry(store, path)
    assert (first.inserted, first.updated, len(first.bad)) == (3, 0, 6)
    path.write_text("registration,vendor,model,level,registered\nJC-0002,Acme,X9,★3,2025-07-01\n")
    second = import_registry(store, path)
    assert (second.inserted, second.updated, second.bad) == (0, 1, ())
    labels = {x.registration: x for x in load_labels(store)}
    assert len(labels) == 3 and labels["JC-0002"].level == 3
    assert labels["JC-0001"].registered == date(2025, 5, 21)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=400))
def test_any_text_parses_or_fails_cleanly(body: str) -> None:
    text = "registration,vendor,model,level,registered,expires\n" + body
    p = parse_registry(text)
    assert len(p.labels) + len(p.bad) == p.lines  # every line imported or reported


def test_brand_column_matches_banners_where_the_registered_name_differs(tmp_path: Path) -> None:
    text = (
        "registration,vendor,model,level,registered,brand\n"
        "JC-B1,株式会社バッファロー,WSR-1166DHP,★1,2025-05-21,BUFFALO\n"
        "JC-B2,Acme Corp.,A-100,★1,2025-05-21,\n"
    )
    labels = {x.registration: x for x in parse_registry(text).labels}
    assert labels["JC-B1"].product == ("buffalo", "wsr1166dhp")
    assert labels["JC-B2"].product == ("acme", "a100") and labels["JC-B2"].brand is None
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    import_registry(store, path)
    assert {x.registration: x.brand for x in load_labels(store)} == {
        "JC-B1": "BUFFALO",
        "JC-B2": None,
    }


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_decode_and_parse_or_fail_with_config_error(body: bytes) -> None:
    data = b"registration,vendor,model,level,registered\n" + body
    try:
        p = parse_registry(decode(data))
    except ConfigError:
        return  # neither UTF-8 nor Shift_JIS: refused as a whole, with the offset
    assert len(p.labels) + len(p.bad) == p.lines
