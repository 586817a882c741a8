"""nmap-service-probes: line parsing, templates, CPE mapping, the real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iotscope.errors import ConfigError
from iotscope.fingerprint import RuleSet, identify, load_rules
from iotscope.fingerprint._nmap import looks_like_nmap, parse_match_line, parse_nmap_probes
from tests.conftest import require_tool

NMAP_PROBES = Path("/usr/share/nmap/nmap-service-probes")

SAMPLE_FILE = Path(__file__).parent / "samples" / "nmap-service-probes.sample"


def load_sample() -> RuleSet:
    return load_rules([SAMPLE_FILE])


@pytest.fixture(autouse=True)
def _only_nmap_rules(no_shipped_rules: Path) -> None:
    """nmap's rules come after the shipped ones: these tests look at nmap's alone."""


def test_parse_match_line_fields_any_delimiter() -> None:
    line = parse_match_line(r"match ssh m=^SSH-(\d)= p|x y| v/$1/ cpe:/a:v:p:$1/a")
    assert (line.service, line.pattern, line.flags, line.soft) == ("ssh", r"^SSH-(\d)", "", False)
    assert line.fields == (("p", "x y"), ("v", "$1"), ("cpe", "cpe:/a:v:p:$1"))
    soft = parse_match_line(r"softmatch ftp m|^220|is")
    assert (soft.soft, soft.flags, soft.fields) == (True, "is", ())


@pytest.mark.parametrize(
    "line",
    [
        "match",
        "match ssh",
        "match ssh x|a|",
        "match ssh m|unterminated",
        "match ssh m|a|q",
        "match ssh m|a| z/1/",
        "match ssh m|a| p/open",
        "match ssh m|a| p",
        "Probe TCP NULL q||",
    ],
)
def test_malformed_lines_raise_config_error(line: str) -> None:
    with pytest.raises(ConfigError):
        parse_match_line(line)


def test_sample_database() -> None:
    rules = load_sample()
    assert rules.skipped == 1  # the malformed line; regexes compile on first use
    rules.warm(rules.services)
    assert rules.skipped == 2  # and the uncompilable regex
    assert {e.data["line"] for e in rules.errors} == {12, 13}
    cisco = identify("telnet", b"\xff\xfb\x01\xff\xfb\x03\xff\xfd\x18\xff\xfd\x1f", rules)
    assert cisco is not None
    assert cisco.params["service.product"] == "Cisco router telnetd"
    assert cisco.params["hw.device"] == "router"
    assert cisco.params["os.family"] == "IOS"
    assert cisco.params["service.cpe23"] == "cpe:2.3:a:cisco:telnet:*:*:*:*:*:*:*:*"
    assert cisco.params["os.cpe23"] == "cpe:2.3:o:cisco:ios:*:*:*:*:*:*:*:*"
    assert cisco.identity is not None
    assert cisco.identity.device_type == "router"
    assert cisco.identity.cpe == "cpe:2.3:o:cisco:ios:*:*:*:*:*:*:*:*"
    assert "line 5" in cisco.rule and "probe NULL" in cisco.rule


def test_templates_and_hard_before_soft() -> None:
    rules = load_sample()
    dropbear = identify("ssh", "SSH-2.0-dropbear_2019.78\r\n", rules)
    assert dropbear is not None
    assert dropbear.params["service.version"] == "2019.78"
    assert dropbear.params["service.info"] == "protocol 2.0"
    cpe = "cpe:2.3:a:matt_johnston:dropbear_ssh_server:2019.78:*:*:*:*:*:*:*"
    assert dropbear.params["service.cpe23"] == cpe
    acme = identify("ssh", "SSH-2.0-AcmeCam_1_2_3\r\n", rules)
    assert acme is not None
    assert acme.params["service.version"] == "1.2.3"
    assert acme.params["hw.vendor"] == "acme" and acme.params["hw.product"] == "cam_x1"
    soft = identify("ssh", "SSH-1.99-Other\r\n", rules)
    assert soft is not None and soft.rule.startswith("softmatch")
    assert soft.identity is None


def test_printable_integer_flags_and_upnp_alias() -> None:
    rules = load_sample()
    welcome = identify("telnet", "WELCOME Box\x01Name", rules)
    assert welcome is not None
    assert welcome.params["service.product"] == "Box"
    upnp = identify("ssdp", "Server: \x01\x00", rules)
    assert upnp is not None
    assert upnp.params["service.version"] == str(0x0100)
    mqtt = identify("mqtt", b"\x20\x02\x00\x00", rules)
    assert mqtt is not None and mqtt.params["service.product"] == "Mosquitto"
    boa = identify("http", "HTTP/1.0 200 OK\r\nServer: Boa/0.94.14rc21\r\n\r\n", rules)
    assert boa is not None and boa.params["service.version"] == "0.94.14"


def test_looks_like_nmap() -> None:
    assert looks_like_nmap(SAMPLE_FILE.read_bytes())
    assert not looks_like_nmap(b"<?xml version='1.0'?><fingerprints/>")
    assert not looks_like_nmap(b"")


def test_real_nmap_service_probes() -> None:
    require_tool("nmap")
    if not NMAP_PROBES.is_file():
        pytest.skip(f"{NMAP_PROBES} not present")
    rules = load_rules([NMAP_PROBES])
    total = rules.rule_count() + rules.skipped
    assert total > 10_000
    assert rules.skipped < total // 100  # Python takes (almost) all of nmap's PCRE
    match = identify("ssh", "SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u1\r\n", rules)
    assert match is not None
    assert match.params["service.product"] == "OpenSSH"
    assert match.params["service.cpe23"].startswith("cpe:2.3:a:openbsd:openssh:8.4p1")


_LINE_START = st.sampled_from(["match ", "softmatch ", "match ssh m", "match ssh m|a|", ""])


@given(_LINE_START, st.text(max_size=120))
def test_match_line_parser_raises_only_config_error(start: str, rest: str) -> None:
    try:
        line = parse_match_line(start + rest)
    except ConfigError as exc:
        assert exc.message
    else:
        assert line.service


@given(st.binary(max_size=400))
def test_probe_file_parser_never_raises(data: bytes) -> None:
    text = (data + b"\nmatch x m|a|\n" + data).decode("latin-1")
    probes = parse_nmap_probes(text, "fuzz")
    assert len(probes.rules) + len(probes.errors) >= 1


def test_bytes_input_reaches_nmap_patterns_byte_for_byte() -> None:
    rules = load_sample()
    # valid UTF-8 bytes: Recog rules would read text, nmap's byte patterns must see bytes
    cafe = identify("telnet", "Bonjour Café".encode(), rules)
    assert cafe is not None
    assert cafe.params["service.product"] == "Cafe OS"
    assert identify("telnet", "Bonjour Café", rules) is None  # text, not bytes


_PERL_MATCHER = r"""
my @banners = map { chomp; pack("H*", $_) } split(/,/, shift @ARGV);
while (my $line = <STDIN>) {
    chomp $line;
    my ($i, $flags, $hex) = split(/\t/, $line, 3);
    my $p = pack("H*", $hex);
    my $re = eval { $flags ? qr/(?$flags)$p/ : qr/$p/ } or next;
    for my $j (0 .. $#banners) {
        next unless $banners[$j] =~ $re;
        print "$i $j ", (defined($1) ? unpack("H*", $1) : "-"), "\n";
    }
}
"""
_BANNERS = [
    b"SSH-2.0-dropbear_2019.78\r\n",
    b"SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u1\r\n",
    b"SSH-1.99-Cisco-1.25\n",
    b"\xff\xfb\x01\xff\xfb\x03\xff\xfd\x18\xff\xfd\x1f",
    b"HTTP/1.0 200 OK\r\nServer: Boa/0.94.14rc21\r\nContent-Type: text/html\r\n\r\n<html>",
    b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="DVR"\r\n\r\n',
    b"HTTP/1.1 200 OK\r\nServer: lighttpd/1.4.35\r\n\r\n",
    b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: Hikvision-Webs\r\n\r\n",
    b"220 ProFTPD 1.3.5 Server (Debian) [::ffff:127.0.0.1]\r\n",
    b"220 mail.example ESMTP Postfix (Debian/GNU)\r\n",
    b"+OK Dovecot ready.\r\n",
    b"BusyBox v1.19.4 (2013-01-01) built-in shell\r\nlogin: ",
]


def test_python_translation_agrees_with_perl_on_real_nmap_patterns() -> None:
    """Every nmap pattern, in Python and in Perl (PCRE's model), on the same banners."""
    import subprocess

    perl = require_tool("perl")
    require_tool("nmap")
    if not NMAP_PROBES.is_file():
        pytest.skip(f"{NMAP_PROBES} not present")
    probes = parse_nmap_probes(NMAP_PROBES.read_bytes().decode("latin-1"), str(NMAP_PROBES))
    feed = "".join(
        f"{i}\t{r.line.flags}\t{r.line.pattern.encode('latin-1').hex()}\n"
        for i, r in enumerate(probes.rules)
    )
    arg = ",".join(b.hex() for b in _BANNERS)
    out = subprocess.run(
        [perl, "-e", _PERL_MATCHER, arg], input=feed.encode(), capture_output=True, check=True
    ).stdout.decode()
    theirs = {tuple(line.split()[:2]): line.split()[2] for line in out.splitlines()}
    ours: dict[tuple[str, ...], str] = {}
    for i, rule in enumerate(probes.rules):
        for j, banner in enumerate(_BANNERS):
            m = rule.regex.search(banner.decode("latin-1"))
            if m is not None:
                g = m.group(1) if rule.regex.groups else None
                ours[(str(i), str(j))] = "-" if g is None else g.encode("latin-1").hex()
    assert len(ours) >= 10
    assert ours == theirs
