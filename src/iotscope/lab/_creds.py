"""Which credential each emulated service accepts, and whether it is weak.

A device either still has a weak credential (chance ``profile.weak_share``) or its owner set a
strong one. A weak device keeps its vendor's documented factory default for a protocol when the
profile has one (most of the time), otherwise it carries a pair from the public default list
(``iotscope.knowledge.load_default_credentials``). ``weak`` is true exactly when the pair is on
a public list (profile defaults or the knowledge list). A service that needs no login at all
is listed with ``username`` and ``password`` None and ``weak`` True (ARCHITECTURE.md, lab
manifest).
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from functools import lru_cache

from iotscope.errors import IotscopeError
from iotscope.lab._catalog import Profile, ServiceProfile

_STRONG_ALPHABET = string.ascii_letters + string.digits + "!#%+-=@^_"
_VENDOR_SHARE = 0.75  # a weak device keeps its own vendor's default this often


@dataclass(frozen=True, slots=True)
class Pair:
    username: str | None
    password: str | None
    weak: bool

    @property
    def open(self) -> bool:
        return self.username is None and self.password is None


OPEN = Pair(None, None, True)


def credential_protocol(service: str) -> str:
    """The credential-list protocol a service's login belongs to (https logs in like http)."""
    return "http" if service == "https" else service


def needs_login(svc: ServiceProfile) -> bool:
    """Whether ``svc`` checks a username/password at all (False for open or login-less)."""
    if svc.no_auth or svc.service == "ssdp":
        return False
    if svc.service in ("http", "https", "rtsp"):
        return svc.auth != "none"
    if svc.service == "mqtt":
        return not svc.anonymous
    return True


def auth_kind(svc: ServiceProfile) -> str | None:
    """How ``svc`` logs in, as the manifest states it (``ServiceSpec.auth``)."""
    if svc.service == "ssdp":
        return None
    if is_open(svc) or not needs_login(svc):
        return "none"
    if svc.service in ("http", "https", "rtsp"):
        return svc.auth
    return "password"


def is_open(svc: ServiceProfile) -> bool:
    """Whether ``svc`` gives access with no login (listed as a null/null weak credential)."""
    return svc.no_auth or (svc.service == "mqtt" and svc.anonymous)


@lru_cache(maxsize=1)
def public_pairs() -> dict[str, tuple[tuple[str, str], ...]]:
    """protocol -> public default pairs from the knowledge list (empty if it is absent)."""
    try:
        from iotscope.knowledge import load_default_credentials

        entries = load_default_credentials()
    except (ImportError, OSError, IotscopeError):  # no list shipped: vendor defaults only
        return {}
    table: dict[str, list[tuple[str, str]]] = {}
    for entry in entries:
        for proto in entry.protocols:
            table.setdefault(proto, []).append((entry.username, entry.password))
    return {proto: tuple(pairs) for proto, pairs in table.items()}


def strong_password(rng: random.Random) -> str:
    return "".join(rng.choices(_STRONG_ALPHABET, k=16))


def _vendor_default(profile: Profile, protocol: str) -> Pair | None:
    for cred in profile.defaults:
        if cred.protocol == protocol:
            if cred.username is None and cred.password is None:
                return OPEN
            return Pair(cred.username or "", cred.password or "", True)
    return None


def _default_user(profile: Profile, protocol: str) -> str:
    for cred in profile.defaults:
        if cred.protocol == protocol and cred.username:
            return cred.username
    return "root" if protocol in ("telnet", "ssh") else "admin"


def choose_pair(
    profile: Profile, protocol: str, weak: bool, rng: random.Random, locks_out: bool = False
) -> Pair:
    """The credential one device's ``protocol`` login accepts.

    A weak device whose login locks out after a few failures keeps its vendor's own default:
    such firmware ships one documented default, and a pair drawn from a long public list would
    sit where no survey (nor any bot) could reach it before the lockout.
    """
    if not weak:
        return Pair(_default_user(profile, protocol), strong_password(rng), False)
    vendor = _vendor_default(profile, protocol)
    listed = public_pairs().get(protocol, ())
    if vendor is not None and (not listed or locks_out or rng.random() < _VENDOR_SHARE):
        return vendor
    if listed:
        user, password = rng.choice(listed)
        return Pair(user, password, True)
    if vendor is not None:
        return vendor
    return Pair(_default_user(profile, protocol), strong_password(rng), False)
