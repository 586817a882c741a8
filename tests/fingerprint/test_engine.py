"""The rule engine: order of databases, service mapping, identify() on any text."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.errors import ConfigError
from iotscope.fingerprint import (
    SERVICE_KEYS,
    RuleSet,
    identify,
    load_default_rules,
    load_rules,
    service_for_key,
)
from iotscope.fingerprint._engine import RULES_DIR
from iotscope.records import Identity
from tests.conftest import SHARED_DATA

TELNET_XML = SHARED_DATA / "recog" / "telnet_banners.xml"


def write(tmp_path: Path, name: str, matches: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(f'<fingerprints matches="{matches}" protocol="x">{body}</fingerprints>')
    return path


def vendor_rule(pattern: str, vendor: str) -> str:
    param = f'<param pos="0" name="hw.vendor" value="{vendor}"/>'
    return f'<fingerprint pattern="{pattern}">{param}</fingerprint>'


@pytest.mark.usefixtures("no_shipped_rules")
def test_identify_with_real_recog_telnet_file(shared_data: Path) -> None:
    rules = load_rules([shared_data / "recog" / "telnet_banners.xml"])
    match = identify("telnet", "MikroTik v6.42.3 (stable)\r\nLogin: ", rules)
    assert match is not None
    assert match.identity is not None
    assert (match.identity.vendor, match.identity.version) == ("MikroTik", "6.42.3")
    assert match.params["os.version"] == "6.42.3"
    assert match.rule == "MikroTik RouterOS"
    assert match.database.endswith("telnet_banners.xml")


@pytest.mark.usefixtures("no_shipped_rules")
def test_assert_nothing_match_has_params_but_no_identity(shared_data: Path) -> None:
    rules = load_rules([shared_data / "recog" / "telnet_banners.xml"])
    match = identify("telnet", "login:", rules)
    assert match is not None
    assert match.identity is None
    assert match.params["hw.certainty"] == "0.0"


def test_extra_databases_are_tried_in_order_after_shipped(tmp_path: Path) -> None:
    a = write(tmp_path, "a.xml", "telnet.banner", vendor_rule("^Box", "A"))
    b = write(
        tmp_path, "b.xml", "telnet_banners", vendor_rule("^Box", "B") + vendor_rule("^Cat", "C")
    )
    rules = load_rules([a, b])
    assert [db.source for db in rules.databases("telnet")][-2:] == [str(a), str(b)]
    first = identify("telnet", "Box 1", rules)
    assert first is not None
    assert first.identity == Identity(vendor="A")
    second = identify("telnet", "Cat", rules)
    assert second is not None
    assert second.database == str(b)


def test_matches_keys_attach_to_services(tmp_path: Path) -> None:
    paths = [
        write(tmp_path, f"{i}.xml", key, vendor_rule("^X", svc))
        for i, (svc, keys) in enumerate(SERVICE_KEYS.items())
        for key in keys[:1]
    ]
    rules = load_rules(paths)
    for svc in SERVICE_KEYS:
        match = identify(svc, "X", rules)
        assert match is not None
        assert match.identity == Identity(vendor=svc)
    assert service_for_key("upnp.banner") == "ssdp"
    assert identify("ssdp_header.server", "X", rules) is not None  # a Recog key works as a name


def test_unknown_key_uses_fallback_service_or_its_own_name(tmp_path: Path) -> None:
    path = write(tmp_path, "odd.xml", "mqtt.connack", vendor_rule("^Y", "Q"))
    assert identify("mqtt.connack", "Y", load_rules([path])) is not None
    assert identify("mqtt", "Y", load_rules([path], fallback_service="mqtt")) is not None


def test_bad_regexes_are_skipped_and_counted(tmp_path: Path) -> None:
    path = write(
        tmp_path, "bad.xml", "telnet.banner", '<fingerprint pattern="(x"/>' + vendor_rule("x", "V")
    )
    rules = load_rules([path])
    assert rules.skipped >= 1
    assert any(e.data.get("file") == str(path) for e in rules.errors)
    match = identify("telnet", "x", rules)
    assert match is not None


def test_bytes_banner_and_unknown_service() -> None:
    rules = RuleSet()
    assert identify("telnet", b"\xff\xfb\x01login:", rules) is None
    assert identify("no-such-service", "x") is None


def test_missing_extra_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_rules([tmp_path / "missing.xml"])


@functools.cache
def fuzz_rules() -> RuleSet:
    extra = [TELNET_XML] if TELNET_XML.is_file() else []
    return load_rules(extra)


SERVICES = sorted({*SERVICE_KEYS, "mqtt", "upnp", "unknown"})


@settings(deadline=None)  # the first example loads and compiles the rules
@given(st.sampled_from(SERVICES), st.text(max_size=400) | st.binary(max_size=400))
def test_identify_never_raises_on_any_banner(service: str, banner: str | bytes) -> None:
    match = identify(service, banner, fuzz_rules())
    assert match is None or isinstance(match.params, dict)


def test_shipped_rules_load_without_errors() -> None:
    rules = load_rules()
    assert rules.errors == []
    assert len(rules.sources) == len(list(RULES_DIR.glob("*.xml")))


def test_http_body_reads_only_the_first_4_kib(tmp_path: Path) -> None:
    path = write(tmp_path, "body.xml", "http_body", vendor_rule("Acme Login", "Acme"))
    rules = load_rules([path])
    assert identify("http_body", "x" * 4000 + "Acme Login", rules) is not None
    assert identify("http_body", "x" * 4096 + "Acme Login", rules) is None


def test_ssh_files_see_whole_line_or_software_part_as_their_examples_do(tmp_path: Path) -> None:
    recog_style = write(
        tmp_path,
        "recog_ssh.xml",
        "ssh.banner",
        '<fingerprint pattern="^dropbear_([\\d.]+)$"><example>dropbear_2019.78</example>'
        '<param pos="1" name="service.version"/></fingerprint>',
    )
    whole_line = write(
        tmp_path,
        "ours_ssh.xml",
        "ssh.banner",
        '<fingerprint pattern="^SSH-2\\.0-AcmeSSH_(\\d+)"><example>SSH-2.0-AcmeSSH_1</example>'
        '<param pos="1" name="service.version"/></fingerprint>',
    )
    rules = load_rules([recog_style, whole_line])
    dropbear = identify("ssh", "SSH-2.0-dropbear_2019.78\r\n", rules)
    assert dropbear is not None and dropbear.params["service.version"] == "2019.78"
    acme = identify("ssh", "SSH-2.0-AcmeSSH_7\r\n", rules)
    assert acme is not None and acme.params["service.version"] == "7"


def test_a_broken_shipped_file_is_reported_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a_broken.xml").write_text("<fingerprints><fingerprint")
    write(tmp_path, "telnet_banners.xml", "telnet.banner", vendor_rule("^Box", "Good"))
    monkeypatch.setattr("iotscope.fingerprint._engine.RULES_DIR", tmp_path)
    rules = load_rules()
    assert rules.skipped == 1
    assert "a_broken.xml" in str(rules.errors[0])
    match = identify("telnet", "Box", rules)
    assert match is not None
    assert match.database == "iotscope:telnet_banners.xml"


SHIPPED = sorted(RULES_DIR.glob("*.xml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_examples_identify_to_their_own_fingerprint(path: Path) -> None:
    """Through identify() and the default rules: no example is shadowed by an earlier rule."""
    from iotscope.fingerprint._recog import load_recog

    db = load_recog(path)
    service = service_for_key(db.match_key)
    assert service is not None
    for fp in db.fingerprints:
        for example in fp.examples:
            assert example.text is not None
            match = identify(service, example.text)
            assert match is not None, example.text
            assert (match.rule, match.database) == (fp.label, f"iotscope:{path.name}")
            assert example.expected.items() <= {**match.params, "matched": fp.label}.items()


@pytest.mark.parametrize(
    ("service", "banner", "product", "version"),
    [
        ("ssh", "SSH-2.0-dropbear_2022.83", "Dropbear", "2022.83"),
        ("http", "lighttpd/1.4.69", "lighttpd", "1.4.69"),
        ("http", "mini_httpd/1.30 19jan2016", "mini_httpd", "1.30"),
    ],
)
def test_real_servers_get_a_software_identity(
    service: str, banner: str, product: str, version: str
) -> None:
    match = identify(service, banner)
    assert match is not None and match.identity is not None
    assert match.identity == Identity(product=product, version=version)  # no device vendor


def test_nmap_probes_setting_turns_the_default_database_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from iotscope.fingerprint import default_databases

    monkeypatch.setenv("IOTSCOPE_NMAP_PROBES", "off")
    assert default_databases() == []
    own = tmp_path / "probes"
    own.write_text("match telnet m|^Acme| p/Acme telnetd/ cpe:/h:acme:box/\n")
    monkeypatch.setenv("IOTSCOPE_NMAP_PROBES", str(own))
    assert default_databases() == [own]
    match = identify("telnet", "Acme box", load_default_rules())
    assert match is not None and match.identity is not None
    assert match.identity.vendor == "acme"
    assert identify("http", "Acme box", load_default_rules()) is None  # telnet and ssh only


def test_nmap_lines_compile_on_first_use(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    own = tmp_path / "probes"
    own.write_text("match telnet m|^Acme| p/Acme/\nmatch ftp m|(| p/bad/\n")
    rules = load_rules([own])
    assert rules.skipped == 0  # nothing compiled yet
    assert identify("telnet", "Acme", rules) is not None
    assert rules.skipped == 0
    rules.warm(["ftp"])
    assert rules.skipped == 1
