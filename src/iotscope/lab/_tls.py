"""Self-signed certificates for the lab's HTTPS services, cached on disk.

Each distinct ``cert_subject`` (RFC 4514 string, e.g. ``CN=ipcam,O=Hikvision``) gets one
self-signed X.509 certificate, stored as PEM under ``IOTSCOPE_HOME/lab/tls`` and reused by
later runs; all certificates share one P-256 key, so a new subject costs one signature.
"""

from __future__ import annotations

import hashlib
import os
import ssl
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from iotscope.errors import ConfigError

NOT_BEFORE = datetime(2016, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime(2046, 1, 1, tzinfo=UTC)


def _key(folder: Path) -> ec.EllipticCurvePrivateKey:
    path = folder / "key.pem"
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _atomic_write(path, pem)
    return key


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def make_certificate(subject: str, key: ec.EllipticCurvePrivateKey) -> bytes:
    """PEM of a self-signed certificate for ``subject`` (issuer = subject)."""
    try:
        name = x509.Name.from_rfc4514_string(subject)
    except ValueError as exc:
        raise ConfigError("bad certificate subject", subject=subject) from exc
    serial = int.from_bytes(hashlib.sha256(subject.encode()).digest()[:16], "big") >> 1
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial or 1)
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


class CertStore:
    """SSL server contexts by certificate subject, backed by PEM files in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._key: ec.EllipticCurvePrivateKey | None = None

    def context(self, subject: str) -> ssl.SSLContext:
        if subject not in self._contexts:
            self._contexts[subject] = self._load(subject)
        return self._contexts[subject]

    def ensure(self, subject: str) -> Path:
        """The PEM file of ``subject``'s certificate, created if missing (no SSL context)."""
        cert = self.folder / f"{hashlib.sha256(subject.encode()).hexdigest()[:20]}.pem"
        if not cert.exists():
            if self._key is None:
                self._key = _key(self.folder)
            _atomic_write(cert, make_certificate(subject, self._key))
        return cert

    def _load(self, subject: str) -> ssl.SSLContext:
        cert = self.ensure(subject)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert, self.folder / "key.pem")
        return ctx
