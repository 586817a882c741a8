"""Export sequence numbers per exporter and domain: lost, reordered and duplicate exports.

What each header's sequence number counts, and so what a gap means:

- NetFlow v5: ``flow_sequence`` is the number of flows the engine exported before this packet;
  the next packet should carry ``seq + count`` (lost unit: flows). Domain = engine type * 256 +
  engine id.
- NetFlow v9 (RFC 3954 §5.1): ``package_sequence`` counts export packets per source id; the next
  packet should carry ``seq + 1`` (lost unit: export packets).
- IPFIX (RFC 7011 §3.1): the sequence number counts data records (options data included, not
  templates) sent before this message in the observation domain, modulo 2^32; the next message
  should carry ``seq + records`` (lost unit: flow records). A message whose record count is not
  known (data for a template not yet seen) resynchronises on the next message instead.

All arithmetic is modulo 2^32 and unwrapped into a running count. A jump forward of at most
``max_gap`` units opens a hole (counted lost); a message that lands inside a hole within
``window`` units behind the front fills it (reordered, no longer lost); one behind the front
that fills nothing is a duplicate. A jump beyond either bound, or (v5/v9) a header sysUptime
that went backwards, is an exporter restart: counted in ``resets``, never as loss.

Some exporters count differently: softflowd's IPFIX sequence number already includes the flow
records of its own message (and not its options records). The first ``PROBE_MESSAGES``
messages of a domain pick the convention (``_best_mode``: the RFC's unless at least two
observations, and two more than for the RFC's, agree with another); the counters are recomputed
from those messages whenever the pick changes, then it is kept.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any

__all__ = ["DomainSequence", "SequenceTracker"]

MOD = 1 << 32
MAX_HOLES = 256
UNITS = {"v5": "flows", "v9": "packets", "ipfix": "flows"}
# (window behind the front, largest forward gap) in each kind's unit
LIMITS = {"v5": (1 << 16, 1 << 22), "v9": (1 << 10, 1 << 17), "ipfix": (1 << 16, 1 << 22)}
_UPTIME_SLACK_MS = 60_000


@dataclass
class DomainSequence:
    """Sequence state and counters of one (exporter, kind, domain)."""

    exporter: str
    kind: str
    domain: int
    packets: int = 0
    received: int = 0
    lost: int = 0
    reordered: int = 0
    duplicates: int = 0
    resets: int = 0
    unverified: int = 0
    front: int | None = None  # unwrapped sequence expected next
    last_seq: int = -1
    last_uptime: int = -1
    last_export_ms: int = 0
    holes: list[list[int]] = field(default_factory=list)  # unwrapped [start, end)
    mode: str = "rfc"
    locked: bool = False
    probe: list[list[int]] = field(default_factory=list)  # the first messages, kept to pick mode

    @property
    def unit(self) -> str:
        return UNITS[self.kind]

    @property
    def loss_ratio(self) -> float:
        total = self.received + self.lost
        return self.lost / total if total else 0.0

    def observe(
        self, seq: int, count: int | None, uptime: int, export_ms: int, flows: int | None = None
    ) -> None:
        """One export packet with sequence ``seq`` carrying ``count`` units (None: unknown), of
        which ``flows`` are flow records (default: all; IPFIX options data is the rest)."""
        n_flows = count if flows is None else flows
        obs = [seq, -1 if count is None else count, -1 if n_flows is None else n_flows]
        if not self.locked:
            self.probe.append([*obs, uptime, export_ms])
            best = _best_mode(self.probe)
            self.locked = len(self.probe) >= PROBE_MESSAGES
            if best != self.mode:
                self.mode = best
                self._restart()
                for o in self.probe:
                    self._core(*_normalised(best, o[:3]), o[3], o[4])
                self.probe = [] if self.locked else self.probe
                self.last_seq = seq
                return
            if self.locked:
                self.probe = []
        self._core(*_normalised(self.mode, obs), uptime, export_ms)
        self.last_seq = seq

    def _restart(self) -> None:
        for name in ("packets", "received", "lost", "reordered", "duplicates", "resets"):
            setattr(self, name, 0)
        self.unverified, self.front, self.last_uptime, self.holes = 0, None, -1, []

    def _core(self, seq: int, count: int | None, uptime: int, export_ms: int) -> None:
        self.packets += 1
        self.last_export_ms = max(self.last_export_ms, export_ms)
        wrapped = self.last_uptime > MOD - _UPTIME_SLACK_MS and uptime < _UPTIME_SLACK_MS
        rebooted = 0 <= uptime + _UPTIME_SLACK_MS < self.last_uptime and not wrapped
        if uptime >= 0:
            self.last_uptime = uptime
        self.last_seq = seq
        if self.front is None or rebooted:
            self.resets += int(self.front is not None)
            self._resync(seq, count)
            return
        window, max_gap = LIMITS[self.kind]
        assert self.front is not None
        delta = (seq - self.front + MOD // 2) % MOD - MOD // 2
        at = self.front + delta
        if 0 <= delta <= max_gap:
            if delta:
                self._open_hole(self.front, at, window)
            self._advance(at, count)
        elif -window <= delta < 0:
            self._behind(at, count)
        else:
            self.resets += 1
            self._resync(seq, count)

    def _resync(self, seq: int, count: int | None) -> None:
        self.holes.clear()
        base = ((self.front or 0) // MOD + 2) * MOD  # fresh, far from old holes, ≡ seq mod 2^32
        if count is None:
            self.front = None
            self.unverified += 1
            return
        self.front = base + seq + count
        self.received += count

    def _advance(self, at: int, count: int | None) -> None:
        if count is None:
            self.unverified += 1
            self.front = None
            self.holes.clear()
            return
        self.front = at + count
        self.received += count

    def _open_hole(self, start: int, end: int, window: int) -> None:
        self.lost += end - start
        self.holes.append([start, end])
        self.holes = [h for h in self.holes if h[1] >= end - window][-MAX_HOLES:]

    def _behind(self, at: int, count: int | None) -> None:
        n = 1 if count is None else max(count, 1)
        for i, (start, end) in enumerate(self.holes):
            if start <= at and at + n <= end:
                self.lost -= n
                self.received += n
                self.reordered += 1
                pieces = [[start, at], [at + n, end]]
                self.holes[i : i + 1] = [p for p in pieces if p[1] > p[0]]
                return
        self.duplicates += 1

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["unit"] = self.unit
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DomainSequence:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


# How an exporter's sequence number counts: RFC 7011 (the records sent before this message),
# or (softflowd's IPFIX) the records up to and including this message's flow records.
MODES = ("rfc", "rfc-flows", "inclusive-flows", "inclusive")
PROBE_MESSAGES = 16


def _step_matches(mode: str, a: list[int], b: list[int]) -> bool:
    """Does message ``b`` follow message ``a`` with nothing lost, under ``mode``?"""
    flows = mode.endswith("flows")
    n_a, n_b = (a[2], b[2]) if flows else (a[1], b[1])
    if n_a < 0 or n_b < 0:
        return False
    step = n_b if mode.startswith("inclusive") else n_a
    return (a[0] + step) % MOD == b[0]


def _first_matches(mode: str, first: list[int]) -> bool:
    """A fresh exporter's first message: sequence 0 (RFC) or its own record count."""
    n = first[2] if mode.endswith("flows") else first[1]
    return first[0] == (n if mode.startswith("inclusive") else 0) and n >= 0


def _best_mode(probe: list[list[int]]) -> str:
    """The RFC's convention, unless another one has at least two agreeing observations (the
    first message's own sequence, consecutive messages) and more than the RFC's."""
    scores = {
        m: _first_matches(m, probe[0]) + sum(_step_matches(m, a, b) for a, b in pairwise(probe))
        for m in MODES
    }
    best = max(MODES, key=lambda m: (scores[m], -MODES.index(m)))
    # A lost or late message between two of equal size reads as one agreement for the
    # inclusive conventions and one disagreement for the RFC's: demand a margin of two.
    return best if scores[best] >= 2 and scores[best] >= scores["rfc"] + 2 else "rfc"


def _normalised(mode: str, obs: list[int]) -> tuple[int, int | None]:
    """(sequence as the RFC means it, units) of an observation ``[seq, all, flows]``."""
    seq, n_all, n_flows = obs
    n = n_flows if mode.endswith("flows") else n_all
    if n < 0:
        return seq, None
    return ((seq - n) % MOD if mode.startswith("inclusive") else seq), n


Key = tuple[str, str, int]


class SequenceTracker:
    """Every (exporter, kind, domain) one decoder has seen."""

    def __init__(self) -> None:
        self.domains: dict[Key, DomainSequence] = {}

    def observe(
        self,
        exporter: str,
        kind: str,
        domain: int,
        seq: int,
        count: int | None,
        *,
        uptime: int = -1,
        export_ms: int = 0,
        flows: int | None = None,
    ) -> None:
        key = (exporter, kind, domain)
        state = self.domains.get(key)
        if state is None:
            state = self.domains[key] = DomainSequence(exporter, kind, domain)
        state.observe(seq % MOD, count, uptime, export_ms, flows)

    def rows(self) -> list[dict[str, Any]]:
        return [self.domains[k].as_dict() for k in sorted(self.domains)]

    def to_json(self) -> list[dict[str, Any]]:
        return self.rows()

    @classmethod
    def from_json(cls, rows: list[dict[str, Any]]) -> SequenceTracker:
        tracker = cls()
        for row in rows:
            try:
                state = DomainSequence.from_dict(row)
            except TypeError:
                continue
            tracker.domains[(state.exporter, state.kind, state.domain)] = state
        return tracker
