"""The Shadowserver report types iotscope writes, with their columns in Shadowserver's order.

Column lists are facts from Shadowserver's public report schema (``reports.json`` of
The-Shadowserver-Foundation/report_schema); a test checks them against that file. Which kind
of finding goes to which type:

- weak login (the survey logged in with a default credential, or needed none): the "accessible
  service" report of the protocol (``scan_telnet``, ``scan_ssh``, ``scan_http``); other
  protocols go to ``device_id``. The ``tag`` says ``default-credentials``
  or ``no-auth``, since Shadowserver has no type of its own for a device that accepts a
  default password and a type name of ours would not be recognised by existing parsers.
- vulnerable firmware: ``device_id`` (device vendor/type/model/version), CVE ids in ``tag``.
- infected devices seen by the telescope: ``event4_honeypot_darknet`` (src = the device).
- C2 servers in the ISP's network: ``blocklist`` (``reason`` says C2 and how it was found);
  Shadowserver's botnet C&C feed is retired and the current schema has no C2-server type.
"""

from __future__ import annotations

BASE = (
    "timestamp", "severity", "ip", "protocol", "port", "hostname", "tag", "asn", "geo",
    "region", "city", "naics", "hostname_source", "sector",
)  # fmt: skip
DEVICE = ("device_vendor", "device_type", "device_model", "device_version")

# fmt: off
COLUMNS: dict[str, tuple[str, ...]] = {
    "scan_telnet": (*BASE, "banner"),
    "scan_http": (
        *BASE,
        "http",
        "http_code",
        "http_reason",
        "content_type",
        "connection",
        "www_authenticate",
        "set_cookie",
        "server",
        "content_length",
        "transfer_encoding",
        "http_date",
        "version",
    ),
    "device_id": (*BASE, *DEVICE),
    "event4_honeypot_darknet": (
        "timestamp",
        "protocol",
        "src_ip",
        "src_port",
        "src_asn",
        "src_geo",
        "src_region",
        "src_city",
        "src_hostname",
        "src_naics",
        "src_sector",
        "device_vendor",
        "device_type",
        "device_model",
        "severity",
        "dst_ip",
        "dst_port",
        "dst_asn",
        "dst_geo",
        "dst_region",
        "dst_city",
        "dst_hostname",
        "dst_naics",
        "dst_sector",
        "public_source",
        "infection",
        "family",
        "tag",
        "application",
        "version",
        "event_id",
        "count",
    ),
    "blocklist": (
        "timestamp",
        "severity",
        "ip",
        "hostname",
        "source",
        "reason",
        "asn",
        "geo",
        "region",
        "city",
        "naics",
        "sector",
        "tag",
    ),
}
# fmt: on

SCAN_SSH_EXTRA = (
    "device_vendor", "device_type", "device_model", "device_version", "device_sector",
    "serverid_raw", "serverid_version", "serverid_software", "serverid_comment",
    "server_cookie", "available_kex", "available_ciphers", "available_mac",
    "available_compression", "selected_kex", "algorithm", "selected_cipher", "selected_mac",
    "selected_compression", "server_signature_value", "server_signature_raw",
    "server_host_key", "server_host_key_sha256", "rsa_prime", "rsa_prime_length",
    "rsa_generator", "rsa_generator_length", "rsa_public_key", "rsa_public_key_length",
    "rsa_exponent", "rsa_modulus", "rsa_length", "dss_prime", "dss_prime_length",
    "dss_generator", "dss_generator_length", "dss_public_key", "dss_public_key_length",
    "dss_dsa_public_g", "dss_dsa_public_p", "dss_dsa_public_q", "dss_dsa_public_y",
    "ecdsa_curve25519", "ecdsa_curve", "ecdsa_public_key_length", "ecdsa_public_key_b",
    "ecdsa_public_key_gx", "ecdsa_public_key_gy", "ecdsa_public_key_n", "ecdsa_public_key_p",
    "ecdsa_public_key_x", "ecdsa_public_key_y", "ed25519_curve25519",
    "ed25519_cert_public_key_nonce", "ed25519_cert_public_key_bytes",
    "ed25519_cert_public_key_raw", "ed25519_cert_public_key_sha256",
    "ed25519_cert_public_key_serial", "ed25519_cert_public_key_type_id",
    "ed25519_cert_public_key_type_name", "ed25519_cert_public_key_keyid",
    "ed25519_cert_public_key_principles", "ed25519_cert_public_key_valid_after",
    "ed25519_cert_public_key_valid_before", "ed25519_cert_public_key_duration",
    "ed25519_cert_public_key_sigkey_bytes", "ed25519_cert_public_key_sigkey_raw",
    "ed25519_cert_public_key_sigkey_sha256", "ed25519_cert_public_key_sigkey_value",
    "ed25519_cert_public_key_sig_raw", "banner", "userauth_methods", "hassh",
)  # fmt: skip
COLUMNS["scan_ssh"] = (*BASE, *SCAN_SSH_EXTRA)

WEAK_LOGIN_TYPE = {"telnet": "scan_telnet", "ssh": "scan_ssh", "http": "scan_http",
                   "https": "scan_http"}  # fmt: skip
"""Login protocol -> the accessible-service report; any other protocol: ``device_id``."""

VULNERABLE_TYPE = "device_id"
INFECTED_TYPE = "event4_honeypot_darknet"
C2_TYPE = "blocklist"
