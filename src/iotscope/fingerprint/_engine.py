"""The rule engine: databases per service, tried in order, the first matching rule wins.

Order: iotscope's shipped rules (``fingerprint/rules/*.xml``, by file name) first, then each
``extra`` database in the order given. A Recog file attaches to the service its root's
``matches`` key names (``SERVICE_KEYS``); a key iotscope does not know becomes a service of
its own name (or ``fallback_service`` when given, as the CLI does for the service it was
asked about). An nmap-service-probes file attaches each ``match`` line to the nmap service it
names (``ssdp`` reads nmap's ``upnp``); its regexes are compiled per service on the first
``databases(service)`` call (nmap's 12,000 lines take seconds to compile, a survey uses a few
services), and ``warm`` compiles chosen services ahead of time. A Recog ``ssh`` file whose
examples are software versions only (Recog's own ``ssh_banners.xml``) sees the part of the
identification line after ``SSH-2.0-``; iotscope's and any file with whole-line examples see
the whole line. Rules
whose regex Python cannot compile are left out, counted in ``RuleSet.skipped`` and described
in ``RuleSet.errors``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from iotscope.config import load_settings
from iotscope.errors import ConfigError
from iotscope.fingerprint._identity import identity_from_params
from iotscope.fingerprint._nmap import PendingLine, compile_lines, looks_like_nmap, parse_nmap_lines
from iotscope.fingerprint._recog import bytes_to_text, parse_recog
from iotscope.records import Identity

RULES_DIR = Path(__file__).parent / "rules"

SERVICE_KEYS: dict[str, tuple[str, ...]] = {
    # iotscope service -> Recog `matches` keys (and Recog file names, the default key)
    "telnet": ("telnet.banner", "telnet_banners"),
    "ssh": ("ssh.banner", "ssh_banners"),
    "http": ("http_header.server", "http_servers"),
    "http_title": ("html_title", "html.title"),
    "http_realm": ("http_header.wwwauth", "http_wwwauth"),
    "http_body": ("http_body", "html_body", "html.body"),
    "rtsp": ("rtsp_header.server", "rtsp_servers"),
    "ssdp": ("ssdp_header.server", "upnp.banner", "upnp_banners", "ssdp_servers"),
    "x509_subject": ("x509.subject", "x509_subjects"),
    "ftp": ("ftp.banner", "ftp_banners"),
    "snmp": ("snmp.sys_description", "snmp_sysdescr"),
}
_KEY_TO_SERVICE = {key: svc for svc, keys in SERVICE_KEYS.items() for key in keys}
_SSH_IDENT = re.compile(r"SSH-[^-\s]*-([^\r\n]*)")
INPUT_LIMITS = {"http_body": 4096}
"""Services whose input is cut to a shorter prefix before matching (HTML: its first 4 KiB)."""
DEFAULT_INPUT_LIMIT = 65536
NMAP_SERVICES = {"ssdp": "upnp"}
"""iotscope service -> the nmap service name whose match lines apply to it, where they differ."""


def service_for_key(key: str) -> str | None:
    """The iotscope service a Recog ``matches`` key (or service name) belongs to."""
    if key in SERVICE_KEYS:
        return key
    return _KEY_TO_SERVICE.get(key)


class Rule(Protocol):
    """One compiled rule: prefilter literals, a label, and ``apply`` -> params or None."""

    literal: tuple[str, ...] | None  # lowercased; a match contains at least one

    @property
    def label(self) -> str: ...

    def apply(self, text: str) -> dict[str, str] | None: ...


@dataclass(frozen=True)
class RuleDatabase:
    """The rules of one file that apply to one service, in file order."""

    source: str
    rules: tuple[Rule, ...]
    ssh_software_only: bool = False  # Recog's ssh.banner: the part after "SSH-2.0-"
    byte_patterns: bool = False  # nmap: patterns over raw bytes (bytes input read as Latin-1)
    plan: tuple[tuple[str | None, tuple[str, ...] | None, Rule], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # (one literal, or several alternatives, rule): the hot loop reads no attributes
        plan = tuple(_planned(r) for r in self.rules)
        object.__setattr__(self, "plan", plan)


def _planned(rule: Rule) -> tuple[str | None, tuple[str, ...] | None, Rule]:
    lits = rule.literal
    if lits is not None and len(lits) == 1:
        return lits[0], None, rule
    return None, lits, rule


@dataclass(frozen=True)
class Match:
    """A rule matched: what it asserts (``identity`` None when it asserts nothing)."""

    identity: Identity | None
    params: dict[str, str]
    rule: str
    database: str


@dataclass(frozen=True)
class LazyDatabase:
    """A database compiled on first use: ``build`` gives it and the rules it had to skip."""

    source: str
    build: Callable[[], tuple[RuleDatabase, list[ConfigError]]]


@dataclass
class RuleSet:
    """Compiled databases keyed by iotscope service name, in the order they are tried."""

    by_service: dict[str, list[RuleDatabase | LazyDatabase]] = field(default_factory=dict)
    errors: list[ConfigError] = field(default_factory=list)
    skipped: int = 0
    sources: list[str] = field(default_factory=list)

    def add(self, service: str, db: RuleDatabase | LazyDatabase) -> None:
        self.by_service.setdefault(service, []).append(db)

    def databases(self, service: str) -> list[RuleDatabase]:
        """The service's databases in order, compiling any lazy one now (counting its skips)."""
        dbs = self.by_service.get(service_for_key(service) or service, [])
        for i, db in enumerate(dbs):
            if isinstance(db, LazyDatabase):
                built, errors = db.build()
                dbs[i] = built
                self.errors.extend(errors)
                self.skipped += len(errors)
        return [db for db in dbs if isinstance(db, RuleDatabase)]

    def warm(self, services: Iterable[str]) -> None:
        """Compile the lazy databases of ``services`` now (before a survey opens sockets)."""
        for service in services:
            self.databases(service)

    @property
    def services(self) -> list[str]:
        return sorted(self.by_service)

    def rule_count(self, service: str | None = None) -> int:
        services = [service] if service else self.services
        return sum(len(db.rules) for s in services for db in self.databases(s))


def load_rules(
    extra: Sequence[Path] = (),
    fallback_service: str | None = None,
    nmap_services: Collection[str] | None = None,
) -> RuleSet:
    """Shipped rules, then ``extra`` files (Recog XML or nmap-service-probes, by content).

    ``nmap_services`` (iotscope service names) limits where nmap's lines attach; None: all.

    Raises ConfigError when an extra file is unreadable or neither format; a shipped file
    that is not valid Recog XML is reported in ``errors`` (counted in ``skipped``) instead.
    """
    rules = RuleSet()
    for path in sorted(RULES_DIR.glob("*.xml")):
        try:  # a broken shipped file must not stop identification by the others
            _add_recog(rules, path.read_bytes(), path, f"iotscope:{path.name}", None)
        except ConfigError as exc:
            rules.errors.append(exc)
            rules.skipped += 1
    for path in extra:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(
                "cannot read rule database", file=str(path), reason=str(exc)
            ) from None
        if looks_like_nmap(data):
            _add_nmap(rules, data, str(path), nmap_services)
        else:
            _add_recog(rules, data, path, str(path), fallback_service)
    return rules


def _add_recog(rules: RuleSet, data: bytes, path: Path, source: str, fallback: str | None) -> None:
    db = parse_recog(data, source, path.stem, (path.with_suffix(""), path.parent))
    service = service_for_key(db.match_key) or fallback or db.match_key
    valid = tuple(fp for fp in db.fingerprints if fp.regex is not None)
    # Recog's own ssh_banners.xml matches the software version ("dropbear_2019.78"); a file
    # whose examples are whole identification lines ("SSH-2.0-...") gets whole lines.
    examples = [ex.text for fp in db.fingerprints for ex in fp.examples if ex.text is not None]
    software_only = service == "ssh" and bool(examples)
    software_only = software_only and not any(t.startswith("SSH-") for t in examples)
    rules.add(service, RuleDatabase(source, valid, software_only))
    rules.errors.extend(db.errors)
    rules.skipped += len(db.errors)
    rules.sources.append(source)


def _add_nmap(
    rules: RuleSet, data: bytes, source: str, only: Collection[str] | None = None
) -> None:
    parsed = parse_nmap_lines(data.decode("latin-1"), source)
    by_nmap_service = parsed.by_service()
    for service in sorted(by_nmap_service):
        if only is None or service in only:
            rules.add(service, _lazy_nmap(source, by_nmap_service[service]))
    for ours, theirs in NMAP_SERVICES.items():
        if theirs in by_nmap_service and ours != theirs and (only is None or ours in only):
            rules.add(ours, _lazy_nmap(source, by_nmap_service[theirs]))
    rules.errors.extend(parsed.errors)
    rules.skipped += len(parsed.errors)
    rules.sources.append(source)


def _lazy_nmap(source: str, lines: list[PendingLine]) -> LazyDatabase:
    def build() -> tuple[RuleDatabase, list[ConfigError]]:
        compiled, errors = compile_lines(lines, source)
        return RuleDatabase(source, tuple(compiled), byte_patterns=True), errors

    return LazyDatabase(source, build)


DEBIAN_NMAP_PROBES = Path("/usr/share/nmap/nmap-service-probes")
NMAP_OFF = ("off", "none", "no", "false", "0")


def default_databases() -> list[Path]:
    """The databases tried after the shipped rules by default: nmap's service probes.

    Setting ``nmap_probes`` (env ``IOTSCOPE_NMAP_PROBES``): ``auto`` (the default) is
    Debian's ``/usr/share/nmap/nmap-service-probes`` when installed (none otherwise), ``off``
    is none, any other value is the path of an nmap-service-probes file.
    """
    choice = load_settings().nmap_probes.strip()
    if choice.lower() in NMAP_OFF:
        return []
    if choice.lower() == "auto":
        return [DEBIAN_NMAP_PROBES] if DEBIAN_NMAP_PROBES.is_file() else []
    return [Path(choice)]


NMAP_BANNER_SERVICES = ("telnet", "ssh")
"""Where the default nmap database attaches: services whose text is the raw banner nmap's
NULL probe reads. nmap's ``http``/``upnp`` lines match whole responses, never the bare
``Server`` header a survey identifies, and would only add seconds of regex compiling."""


def load_default_rules(extra: Sequence[Path] = ()) -> RuleSet:
    """Shipped rules, ``extra`` files, then ``default_databases()`` not among them.

    Any nmap-service-probes file here attaches to NMAP_BANNER_SERVICES only.
    """
    defaults = [d for d in default_databases() if d not in extra]
    return load_rules([*extra, *defaults], nmap_services=NMAP_BANNER_SERVICES)


@functools.cache
def default_rules() -> RuleSet:
    """``load_default_rules()``, loaded once per process (nmap's regexes on first use)."""
    return load_default_rules()


def identify(service: str, text: str | bytes, rules: RuleSet | None = None) -> Match | None:
    """The first rule for ``service`` that matches ``text``, or None. Never raises on text.

    Bytes are read as UTF-8, else Latin-1, for Recog rules, and always as Latin-1 (one
    character per byte) for nmap's byte patterns. Input is cut to ``INPUT_LIMITS`` (the first
    4 KiB of an ``http_body``, 64 KiB otherwise) to bound regex time on hostile banners.
    """
    limit = INPUT_LIMITS.get(service_for_key(service) or service, DEFAULT_INPUT_LIMIT)
    raw = text[:limit]
    text = bytes_to_text(raw) if isinstance(raw, bytes) else raw
    as_bytes = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    ruleset = rules if rules is not None else default_rules()
    for db in ruleset.databases(service):
        subject = as_bytes if db.byte_patterns else text
        if db.ssh_software_only:
            subject = ssh_software(subject)
        match = _first_match(db, subject)
        if match is not None:
            return match
    return None


def _first_match(db: RuleDatabase, text: str) -> Match | None:
    lowered = text.lower()
    for literal, alternatives, rule in db.plan:
        if literal is not None:
            if literal not in lowered:
                continue
        elif alternatives is not None and not _any_in(alternatives, lowered):
            continue
        params = rule.apply(text)
        if params is not None:
            return Match(identity_from_params(params), params, rule.label, db.source)
    return None


def _any_in(literals: tuple[str, ...], text: str) -> bool:
    # a plain loop: any() over a generator costs more than the test itself here
    for literal in literals:  # noqa: SIM110
        if literal in text:
            return True
    return False


def ssh_software(line: str) -> str:
    """``SSH-2.0-dropbear_2019.78 c\r\n`` -> ``dropbear_2019.78 c`` (RFC 4253, 4.2)."""
    m = _SSH_IDENT.match(line)
    return m.group(1) if m else line
