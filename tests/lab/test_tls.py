"""Self-signed certificates per subject, cached on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509

from iotscope.errors import ConfigError
from iotscope.lab._tls import CertStore


def test_certificate_subject_and_cache(tmp_path: Path) -> None:
    store = CertStore(tmp_path)
    ctx = store.context("CN=ipcam,O=Hikvision,C=CN")
    assert store.context("CN=ipcam,O=Hikvision,C=CN") is ctx
    pems = [p for p in tmp_path.iterdir() if p.name != "key.pem"]
    assert len(pems) == 1
    cert = x509.load_pem_x509_certificate(pems[0].read_bytes())
    assert cert.subject.rfc4514_string() == "CN=ipcam,O=Hikvision,C=CN"
    assert cert.issuer == cert.subject
    again = CertStore(tmp_path)  # a later run reuses the files
    again.context("CN=ipcam,O=Hikvision,C=CN")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["key.pem", pems[0].name])


def test_bad_subject_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        CertStore(tmp_path).context("not a subject")
