"""The session state machine played with a scripted peer (no sockets)."""

from __future__ import annotations

import ipaddress

from iotscope.block import Session, SessionConfig
from iotscope.block import _bgp_wire as w

N = ipaddress.IPv4Network


def _peer_open(asn: int = 65001, hold: int = 30, rid: str = "127.0.0.2") -> bytes:
    return w.encode_open(w.speaker_open(asn, hold, rid))


def _decode_all(chunks: list[bytes]) -> list[w.Message]:
    msgs, rest = w.split_messages(b"".join(chunks))
    assert rest == b""
    return [w.decode(k, b) for k, b in msgs]


def _established(cfg: SessionConfig | None = None) -> Session:
    s = Session(cfg or SessionConfig(65000, 65001, "192.0.2.254"))
    s.start()
    s.receive(_peer_open())
    out = s.receive(w.encode_keepalive())
    assert out.established and s.state == "Established"
    return s


def test_handshake_negotiates_the_smaller_hold_time() -> None:
    s = Session(SessionConfig(65000, 65001, "192.0.2.254", hold_time=90))
    [open_] = _decode_all(s.start().send)
    assert isinstance(open_, w.Open) and open_.hold_time == 90
    out = s.receive(_peer_open(hold=30))
    assert _decode_all(out.send) == [w.Keepalive()]
    assert (s.state, s.hold_time, s.keepalive_interval) == ("OpenConfirm", 30, 10.0)


def test_routes_wait_for_established_then_follow_the_desired_set() -> None:
    s = Session(SessionConfig(65000, 65001, "192.0.2.254"))
    s.start()
    assert s.set_routes({N("198.51.100.7/32")}).send == []  # not yet established
    s.receive(_peer_open())
    out = s.receive(w.encode_keepalive())
    [update] = _decode_all(out.send)
    assert isinstance(update, w.Update)
    assert update.nlri == (N("198.51.100.7/32"),)
    assert update.attrs.communities == (w.BLACKHOLE, w.NO_EXPORT)
    assert update.attrs.next_hop == "192.0.2.1"
    assert update.attrs.as_path == ((w.AS_SEQUENCE, (65000,)),)
    out = s.set_routes({N("203.0.113.9/32")})
    assert (out.announced, out.withdrawn) == ([N("203.0.113.9/32")], [N("198.51.100.7/32")])
    assert s.set_routes({N("203.0.113.9/32")}).send == []  # no change, nothing sent


def test_ibgp_sends_local_pref_and_an_empty_as_path() -> None:
    s = Session(SessionConfig(65001, 65001, "192.0.2.254"))
    s.start()
    s.set_routes({N("198.51.100.7/32")})
    s.receive(_peer_open())
    [update] = _decode_all(s.receive(w.encode_keepalive()).send)
    assert isinstance(update, w.Update)
    assert (update.attrs.as_path, update.attrs.local_pref) == ((), 100)


def test_wrong_peer_as_is_refused_with_open_error() -> None:
    s = Session(SessionConfig(65000, 65002, "192.0.2.254"))
    s.start()
    out = s.receive(_peer_open(asn=65001))
    assert _decode_all(out.send) == [w.Notification(2, 2)]
    assert s.state == "Closed" and out.closed is not None


def test_garbage_from_the_peer_gets_a_notification_and_withdraws_everything() -> None:
    s = _established()
    s.set_routes({N("198.51.100.7/32")})
    out = s.receive(b"\x00" * 19)
    assert _decode_all(out.send) == [w.Notification(1, 1)]
    assert out.withdrawn == [N("198.51.100.7/32")] and s.announced == set()


def test_route_refresh_resends_and_stop_sends_cease() -> None:
    s = _established()
    s.set_routes({N("198.51.100.7/32")})
    [again] = _decode_all(s.receive(w._frame(w.ROUTE_REFRESH, b"\x00\x01\x00\x01")).send)
    assert isinstance(again, w.Update) and again.nlri == (N("198.51.100.7/32"),)
    out = s.stop()
    assert _decode_all(out.send) == [w.Notification(6, 2)]
    assert out.withdrawn == [N("198.51.100.7/32")]


def test_hold_timer_expiry_and_notification_from_peer() -> None:
    s = _established()
    assert _decode_all(s.hold_expired().send) == [w.Notification(4, 0)]
    s = _established()
    out = s.receive(w.encode_notification(6, 4))
    assert out.closed == "peer sent NOTIFICATION 6/4" and out.send == []


def test_messages_split_across_reads() -> None:
    s = Session(SessionConfig(65000, 65001, "192.0.2.254"))
    s.start()
    raw = _peer_open() + w.encode_keepalive()
    for i in range(len(raw)):
        s.receive(raw[i : i + 1])
    assert s.state == "Established"
