"""Manifest files: JSON round trip, atomic write, clear errors on bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iotscope.errors import ConfigError
from iotscope.lab import build_world, read_manifest, write_manifest
from tests.lab.labkit import test_catalog


def test_round_trip(tmp_path: Path) -> None:
    manifest = build_world(60, 1, "127.150.0.0/24", test_catalog()).manifest
    path = tmp_path / "deep" / "manifest.json"
    write_manifest(manifest, path)
    assert read_manifest(path) == manifest
    assert [p.name for p in path.parent.iterdir()] == ["manifest.json"]  # no temp file left


def test_contract_fields(tmp_path: Path) -> None:
    manifest = build_world(60, 1, "127.150.0.0/24", test_catalog()).manifest
    path = tmp_path / "m.json"
    write_manifest(manifest, path)
    doc = json.loads(path.read_text())
    assert {"devices", "isps", "seed", "network", "created"} <= set(doc)
    dev = doc["devices"][0]
    assert {"ip", "profile", "vendor", "product", "model", "version", "device_type", "cpe",
            "services", "credentials", "cves", "isp", "hostile"} <= set(dev)  # fmt: skip
    assert {"port", "transport", "service"} <= set(dev["services"][0])
    assert {s["auth"] for d in doc["devices"] for s in d["services"]} <= {
        None, "none", "password", "basic", "digest", "form"}  # fmt: skip
    assert {"name", "asn", "prefixes"} <= set(doc["isps"][0])
    assert all(set(c) == {"protocol", "username", "password", "weak"}
               for d in doc["devices"] for c in d["credentials"])  # fmt: skip


@pytest.mark.parametrize("content", [b"", b"{", b'{"devices": []}', b"\xff\xfe"])
def test_bad_file_is_a_config_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError):
        read_manifest(path)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        read_manifest(tmp_path / "absent.json")
