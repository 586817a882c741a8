"""SSDP M-SEARCH answers (UPnP Device Architecture 1.0 s1.3)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from iotscope.lab._catalog import ServiceProfile
from iotscope.lab._http import device_uuid
from iotscope.lab._ssdp import answer
from tests.lab.test_http import FACTS

SPEC = ServiceProfile(service="ssdp", port=1900, transport="udp", server="Linux UPnP/1.0 Acme/1.0",
                      st="urn:schemas-upnp-org:device:MediaServer:1")  # fmt: skip
LOCATION = "http://127.150.0.9:80/rootDesc.xml"


def search(st_value: str, man: str = '"ssdp:discover"') -> bytes:
    return (f"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: {man}\r\nMX: 1\r\n"
            f"ST: {st_value}\r\n\r\n").encode()  # fmt: skip


def fields(reply: bytes) -> dict[str, str]:
    lines = reply.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 200 OK"
    return {k.upper(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}


def test_ssdp_all() -> None:
    reply = answer(search("ssdp:all"), SPEC, FACTS, LOCATION)
    assert reply is not None
    f = fields(reply)
    assert f["ST"] == SPEC.st and f["LOCATION"] == LOCATION and f["SERVER"] == SPEC.server
    assert f["USN"] == f"uuid:{device_uuid(FACTS)}::{SPEC.st}" and "EXT" in f


def test_rootdevice_and_own_type() -> None:
    for target in ("upnp:rootdevice", SPEC.st or ""):
        reply = answer(search(target), SPEC, FACTS, LOCATION)
        assert reply is not None and fields(reply)["ST"] == target


def test_ignores_other_targets_and_non_searches() -> None:
    assert answer(search("urn:other:1"), SPEC, FACTS, LOCATION) is None
    assert answer(search("ssdp:all", man="nope"), SPEC, FACTS, LOCATION) is None
    assert answer(b"NOTIFY * HTTP/1.1\r\n\r\n", SPEC, FACTS, LOCATION) is None


@given(st.binary(max_size=3000))
def test_fuzz_never_crashes(data: bytes) -> None:
    reply = answer(data, SPEC, FACTS, LOCATION)
    assert reply is None or reply.startswith(b"HTTP/1.1 200 OK")
