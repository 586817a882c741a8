"""The BGP finite state machine of a route-injecting speaker (RFC 4271 section 8), without I/O.

The session is fed the peer's bytes and the desired route set and answers with bytes to send
and what changed; sockets and timers live in ``_bgp_speaker``. It only announces: UPDATEs from
the peer are checked (a malformed one closes the session with the right NOTIFICATION, RFC 4271
section 6.3) and otherwise ignored. Every announced route carries the RFC 7999 BLACKHOLE
community and NO_EXPORT (section 3.2: the blackhole must not leak beyond the receiving AS),
and the configured discard next hop.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Literal

from iotscope.block import _bgp_wire as w

State = Literal["Idle", "OpenSent", "OpenConfirm", "Established", "Closed"]
Net = ipaddress.IPv4Network


@dataclass(frozen=True, slots=True)
class SessionConfig:
    local_as: int
    peer_as: int
    router_id: str
    next_hop: str = "192.0.2.1"
    hold_time: int = 90
    communities: tuple[int, ...] = (w.BLACKHOLE, w.NO_EXPORT)

    def __post_init__(self) -> None:
        for asn in (self.local_as, self.peer_as):
            if not 1 <= asn <= 0xFFFFFFFF:
                raise ValueError(f"AS number out of range: {asn}")
        if self.hold_time != 0 and self.hold_time < 3:
            raise ValueError("hold time must be 0 or at least 3 seconds")


@dataclass(slots=True)
class Output:
    """What one step produced: bytes for the peer, routes that changed, and a close reason."""

    send: list[bytes] = field(default_factory=list)
    announced: list[Net] = field(default_factory=list)
    withdrawn: list[Net] = field(default_factory=list)
    established: bool = False
    closed: str | None = None


class Session:
    """One BGP session from the speaker's side (it connects; RFC 4271 section 8.2.2)."""

    def __init__(self, config: SessionConfig) -> None:
        self.config = config
        self.state: State = "Idle"
        self.hold_time = config.hold_time
        self.peer: w.Open | None = None
        self.desired: set[Net] = set()
        self.announced: set[Net] = set()
        self._buf = b""

    @property
    def as4(self) -> bool:
        return self.peer is not None and self.peer.as4

    @property
    def keepalive_interval(self) -> float | None:
        """Seconds between KEEPALIVEs: a third of the negotiated hold time (section 10)."""
        return self.hold_time / 3 if self.hold_time else None

    def attrs(self) -> w.PathAttrs:
        c = self.config
        ibgp = c.local_as == c.peer_as
        return w.PathAttrs(
            origin=w.ORIGIN_IGP,
            as_path=() if ibgp else ((w.AS_SEQUENCE, (c.local_as,)),),
            next_hop=c.next_hop,
            local_pref=100 if ibgp else None,
            communities=c.communities,
        )

    def start(self) -> Output:
        """The connection is up: send our OPEN."""
        c = self.config
        self.state = "OpenSent"
        return Output(send=[w.encode_open(w.speaker_open(c.local_as, c.hold_time, c.router_id))])

    def receive(self, data: bytes) -> Output:
        """Feed bytes from the peer."""
        out = Output()
        self._buf += data
        try:
            messages, self._buf = w.split_messages(self._buf)
            for kind, body in messages:
                self._handle(w.decode(kind, body, self.as4), out)
                if self.state == "Closed":
                    break
        except w.BgpError as exc:
            return self._fail(exc, out)
        return out

    def _handle(self, msg: w.Message, out: Output) -> None:
        if isinstance(msg, w.Notification):
            self._close(out, f"peer sent NOTIFICATION {msg.code}/{msg.subcode}")
        elif self.state == "OpenSent" and isinstance(msg, w.Open):
            self._open(msg, out)
        elif self.state == "OpenConfirm" and isinstance(msg, w.Keepalive):
            self.state = "Established"
            out.established = True
            self._sync(out)
        elif self.state == "Established" and isinstance(msg, w.Keepalive | w.Update):
            pass  # a KEEPALIVE restarts the hold timer (the edge does); UPDATEs were checked
        elif self.state == "Established" and isinstance(msg, w.RouteRefresh):
            out.send += w.pack_updates([], self.attrs(), sorted(self.announced), self.as4)
        else:
            raise w.BgpError(f"{type(msg).__name__} in state {self.state}", w.E_FSM, 0)

    def _open(self, msg: w.Open, out: Output) -> None:
        c = self.config
        if msg.asn != c.peer_as:
            raise w.BgpError("bad peer AS", w.E_OPEN, 2, got=msg.asn, want=c.peer_as)
        if msg.router_id == "0.0.0.0" or msg.router_id == c.router_id:
            raise w.BgpError("bad BGP identifier", w.E_OPEN, 3)
        if not msg.ipv4_unicast:
            raise w.BgpError("peer does not do IPv4 unicast", w.E_OPEN, 7)
        if c.local_as > 0xFFFF and not msg.as4:
            raise w.BgpError("peer lacks 4-octet AS support", w.E_OPEN, 7)
        self.peer = msg
        self.hold_time = min(c.hold_time, msg.hold_time)
        self.state = "OpenConfirm"
        out.send.append(w.encode_keepalive())

    def set_routes(self, desired: set[Net]) -> Output:
        """Make the announced set equal ``desired`` (sent at once when Established)."""
        self.desired = set(desired)
        out = Output()
        if self.state == "Established":
            self._sync(out)
        return out

    def _sync(self, out: Output) -> None:
        gone = sorted(self.announced - self.desired)
        new = sorted(self.desired - self.announced)
        if not gone and not new:
            return
        out.send += w.pack_updates(gone, self.attrs(), new, self.as4)
        out.withdrawn += gone
        out.announced += new
        self.announced = set(self.desired)

    def keepalive(self) -> Output:
        return Output(
            send=[w.encode_keepalive()] if self.state in ("OpenConfirm", "Established") else []
        )

    def hold_expired(self) -> Output:
        """Nothing heard from the peer for the hold time (section 6.5)."""
        return self._fail(w.BgpError("hold timer expired", w.E_HOLD, 0), Output())

    def stop(self) -> Output:
        """Administrative shutdown (Cease/2, RFC 4486): the peer drops every route at once."""
        out = Output()
        if self.state not in ("Idle", "Closed"):
            out.send.append(w.encode_notification(w.E_CEASE, 2))
        self._close(out, "stopped")
        return out

    def connection_lost(self) -> Output:
        out = Output()
        self._close(out, "connection lost")
        return out

    def _fail(self, exc: w.BgpError, out: Output) -> Output:
        out.send.append(w.encode_notification(exc.code, exc.subcode))
        self._close(out, f"sent NOTIFICATION {exc.code}/{exc.subcode}: {exc.message}")
        return out

    def _close(self, out: Output, reason: str) -> None:
        """Closing a session withdraws everything it announced (RFC 4271 section 8.2.2)."""
        if self.state == "Closed":
            return
        out.withdrawn += sorted(self.announced)
        self.announced = set()
        self.state = "Closed"
        out.closed = reason
