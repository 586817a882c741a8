"""SSDP discovery answers (UPnP Device Architecture 1.0 s1.3; HTTPU over UDP 1900).

``answer`` takes one datagram and returns the unicast reply, or None when the datagram is not
an ``M-SEARCH`` with ``MAN: "ssdp:discover"`` for a search target the device has.
"""

from __future__ import annotations

from iotscope.lab._catalog import ServiceProfile
from iotscope.lab._http import device_uuid

MAX_DATAGRAM = 2048
ROOT = "upnp:rootdevice"


def parse_search(datagram: bytes) -> dict[str, str] | None:
    """Header fields of an M-SEARCH request (names lower-cased), or None if it is not one."""
    if len(datagram) > MAX_DATAGRAM:
        return None
    lines = datagram.decode("latin-1").split("\r\n")
    if lines[0].split() != ["M-SEARCH", "*", "HTTP/1.1"]:
        return None
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip().lower()] = value.strip()
    if fields.get("man", "").strip('"') != "ssdp:discover":
        return None
    return fields


def answer(
    datagram: bytes, spec: ServiceProfile, facts: dict[str, str], location: str
) -> bytes | None:
    """The device's reply to ``datagram``, per s1.3.3 (ST, USN, LOCATION, SERVER, EXT)."""
    fields = parse_search(datagram)
    if fields is None:
        return None
    uuid = f"uuid:{device_uuid(facts)}"
    own = spec.st or ROOT
    wanted = fields.get("st", "")
    if wanted == "ssdp:all":
        st = own
    elif wanted in (own, ROOT, uuid):
        st = wanted
    else:
        return None
    usn = spec.usn or (uuid if st == uuid else f"{uuid}::{st}")
    lines = [
        "HTTP/1.1 200 OK",
        "CACHE-CONTROL: max-age=1800",
        "EXT:",
        f"LOCATION: {location}",
        f"SERVER: {spec.server or 'Linux/2.6 UPnP/1.0 Portable SDK for UPnP devices/1.6.6'}",
        f"ST: {st}",
        f"USN: {usn}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
