"""Banner identification: Recog-format rules (and nmap's probe database) -> ``Identity``.

``identify(service, banner)`` tries iotscope's shipped Recog rules for that service, then any
extra databases a ``RuleSet`` was loaded with (by default, ``default_databases()``: Debian's
nmap-service-probes where installed, unless the ``nmap_probes`` setting is ``off``), and
returns the first match. See ``_recog`` for
Recog's semantics, ``_nmap`` for nmap-service-probes, ``_identity`` for the param -> Identity
precedence and ``_verify`` for ``verify_file``.
"""

from __future__ import annotations

from iotscope.fingerprint._engine import (
    SERVICE_KEYS,
    Match,
    RuleSet,
    default_databases,
    default_rules,
    identify,
    load_default_rules,
    load_rules,
    service_for_key,
)
from iotscope.fingerprint._identity import cpe22_to_23, identity_from_params, merge_identities
from iotscope.fingerprint._verify import VerifyFailure, VerifyReport, verify_file

__all__ = [
    "SERVICE_KEYS",
    "Match",
    "RuleSet",
    "VerifyFailure",
    "VerifyReport",
    "cpe22_to_23",
    "default_databases",
    "default_rules",
    "identify",
    "identity_from_params",
    "load_default_rules",
    "load_rules",
    "merge_identities",
    "service_for_key",
    "verify_file",
]
