"""The flow export decoder: NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) datagrams.

Pure: ``FlowDecoder.feed(payload, exporter)`` takes one UDP payload and the exporter's address,
``flush()`` returns the flows decoded so far as a FLOW_SCHEMA table. All exporter state (the
``TemplateCache``, sampling rates and boot times from options data, data waiting for its
template) lives in the decoder object, so files fed one after another share it.

Bad input never raises: a datagram whose header or set framing is wrong is counted in
``counts.malformed`` and skipped whole; a bad template or record inside good framing is counted
in ``counts.malformed_sets`` (the datagram in ``malformed`` too) and the other sets still count.
Data for an unknown template waits (bounded per exporter and domain) until the template comes;
data that is evicted or still waiting at ``finish()`` is counted in ``counts.no_template``.

Sampling (documented choice): options data carrying samplingInterval (34, v9
SAMPLING_INTERVAL) or samplerRandomInterval (50, v9 FLOW_SAMPLER_RANDOM_INTERVAL) sets a
1-in-N rate for the exporter and domain, or, when the options record names a sampler
(FLOW_SAMPLER_ID/samplerId 48, selectorId 302), for the data records naming that sampler (their
rate is looked up when the batch is decoded); samplingPacketInterval (305) with samplingPacketSpace
(306) gives (305 + 306) / 305, samplingSize (309) with samplingPopulation (310) gives
310 / 309 (RFC 5477 §8.2). NetFlow v5 takes the low 14 bits of the header's sampling_interval.
Decoded packets and bytes are multiplied by the rate; a rate of 0 or 1 means unsampled.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

import pyarrow as pa

from iotscope.errors import ParseError
from iotscope.flows import _ies as ie
from iotscope.flows._columns import Batch, Context, split_variable
from iotscope.flows._sequence import SequenceTracker
from iotscope.flows._templates import (
    Field,
    Template,
    TemplateCache,
    Withdrawal,
    parse_ipfix_templates,
    parse_v9_options_templates,
    parse_v9_templates,
)

__all__ = ["V5_TEMPLATE", "DecodeCounts", "FlowDecoder", "decode_datagrams"]

_HH = struct.Struct(">HH")
_V5 = struct.Struct(">HHIIIIBBH")
_V9 = struct.Struct(">HHIIII")
_IPFIX = struct.Struct(">HHIII")

# NetFlow v5's fixed 48-byte record (Cisco's format) as a template: 210 is IANA's paddingOctets.
V5_TEMPLATE = Template(
    0,
    tuple(
        Field(i, n)
        for i, n in (
            (8, 4), (12, 4), (15, 4), (10, 2), (14, 2), (2, 4), (1, 4), (22, 4), (21, 4),
            (7, 2), (11, 2), (210, 1), (6, 1), (4, 1), (5, 1), (16, 2), (17, 2), (9, 1),
            (13, 1), (210, 2),
        )
    ),
)  # fmt: skip

_ERRORS = (ParseError, struct.error, ValueError, IndexError)


@dataclass
class DecodeCounts:
    """What the decoder saw; every datagram and record ends up in exactly one place."""

    packets: int = 0
    flows: int = 0
    malformed: int = 0
    malformed_sets: int = 0
    no_template: int = 0
    no_address: int = 0
    templates: int = 0
    options_templates: int = 0
    withdrawn: int = 0
    options_records: int = 0
    unknown_sets: int = 0
    trailing_bytes: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Waiting:
    set_id: int
    body: bytes
    ctx: Context


Domain = tuple[str, int]


class FlowDecoder:
    """Decoder and exporter state for one collector or one ingest run."""

    def __init__(
        self, site: str = "", *, max_waiting_sets: int = 256, max_waiting_bytes: int = 64 << 20
    ) -> None:
        self.site = site
        self.templates = TemplateCache()
        self.counts = DecodeCounts()
        self.sequences = SequenceTracker()
        self._options_in_message = 0
        self.last_error = ""
        self._batch = Batch()
        self._waiting: dict[Domain, deque[_Waiting]] = {}
        self._max_waiting = max_waiting_sets
        self._max_waiting_bytes = max_waiting_bytes
        self._waiting_bytes = 0
        self._rate: dict[Domain, int] = {}
        self._init: dict[Domain, int] = {}
        self._samplers: dict[tuple[str, int, int], int] = {}

    @property
    def pending_records(self) -> int:
        """Records decoded from the wire but not yet returned by ``flush``."""
        return self._batch.records

    @property
    def waiting_sets(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    def feed(self, payload: bytes, exporter: str) -> None:
        """Take one export datagram (UDP payload) sent by ``exporter``. Never raises."""
        self.counts.packets += 1
        try:
            self._dispatch(payload, exporter)
        except _ERRORS as exc:
            self.counts.malformed += 1
            self.last_error = str(exc)

    def flush(self) -> pa.Table:
        """The flows decoded since the last flush (FLOW_SCHEMA)."""
        table, no_address = self._batch.drain(self.site, self._samplers)
        self.counts.flows += table.num_rows
        self.counts.no_address += no_address
        return table

    def detach(self) -> Callable[[], pa.Table]:
        """Take the records decoded from the wire so far; the returned function decodes them
        (like ``flush``) and may run in another thread while ``feed`` goes on."""
        batch, self._batch = self._batch, Batch()
        samplers = dict(self._samplers)

        def drain() -> pa.Table:
            table, no_address = batch.drain(self.site, samplers)
            self.counts.flows += table.num_rows
            self.counts.no_address += no_address
            return table

        return drain

    def finish(self) -> pa.Table:
        """Flush, and count data still waiting for a template as ``no_template``."""
        self.counts.no_template += self.waiting_sets
        self._waiting.clear()
        self._waiting_bytes = 0
        return self.flush()

    # --- dispatch ---------------------------------------------------------------------------

    def _dispatch(self, payload: bytes, exporter: str) -> None:
        if len(payload) < 2:
            raise ParseError("datagram shorter than a version number")
        (version,) = struct.unpack_from(">H", payload)
        if version == 5:
            self._v5(payload, exporter)
        elif version == 9:
            self._v9(payload, exporter)
        elif version == 10:
            self._ipfix(payload, exporter)
        else:
            raise ParseError("not NetFlow v5/v9 or IPFIX", version=version)

    def _v5(self, payload: bytes, exporter: str) -> None:
        if len(payload) < _V5.size:
            raise ParseError("truncated NetFlow v5 header")
        _, count, uptime, secs, nsecs, seq, etype, eid, sampling = _V5.unpack_from(payload)
        if not 1 <= count <= 30 or len(payload) != _V5.size + 48 * count:
            raise ParseError("NetFlow v5 count does not match length", count=count)
        rate = max(sampling & 0x3FFF, 1)
        ctx = Context(exporter, 0, secs * 1000 + nsecs // 1_000_000, uptime, -1, rate)
        self.sequences.observe(
            exporter, "v5", etype << 8 | eid, seq, count, uptime=uptime, export_ms=ctx.export_ms
        )
        self._batch.add(V5_TEMPLATE, payload[_V5.size :], count, ctx)

    def _v9(self, payload: bytes, exporter: str) -> None:
        if len(payload) < _V9.size:
            raise ParseError("truncated NetFlow v9 header")
        _, _, uptime, secs, seq, source_id = _V9.unpack_from(payload)
        domain = (exporter, source_id)
        self.sequences.observe(
            exporter, "v9", source_id, seq, 1, uptime=uptime, export_ms=secs * 1000
        )
        sets = _walk_sets(payload, _V9.size)
        self._sets(sets, domain, Context(exporter, source_id, secs * 1000, uptime, -1, 1), v9=True)

    def _ipfix(self, payload: bytes, exporter: str) -> None:
        if len(payload) < _IPFIX.size:
            raise ParseError("truncated IPFIX header")
        _, length, export_s, seq, obs_domain = _IPFIX.unpack_from(payload)
        if not _IPFIX.size <= length <= len(payload):
            raise ParseError("IPFIX length does not match datagram", length=length)
        if length < len(payload):
            self.counts.trailing_bytes += len(payload) - length
        domain = (exporter, obs_domain)
        sets = _walk_sets(payload[:length], _IPFIX.size)
        ctx = Context(exporter, obs_domain, export_s * 1000, -1, -1, 1)
        records: list[int | None] = []
        self._options_in_message = 0
        try:
            self._sets(sets, domain, ctx, v9=False, records=records)
        finally:
            known = None if None in records else sum(r or 0 for r in records)
            flows = None if known is None else known - self._options_in_message
            self.sequences.observe(
                exporter, "ipfix", obs_domain, seq, known, export_ms=ctx.export_ms, flows=flows
            )

    def _sets(
        self,
        sets: list[tuple[int, bytes]],
        domain: Domain,
        ctx: Context,
        v9: bool,
        records: list[int | None] | None = None,
    ) -> None:
        """Decode each set; ``records`` gets each set's data record count (None: unknown)."""
        bad = 0
        counted = records if records is not None else []
        for set_id, body in sets:
            try:
                counted.append(self._one_set(set_id, body, domain, ctx, v9))
            except _ERRORS as exc:
                bad += 1
                counted.append(None)
                self.last_error = str(exc)
        if bad:
            self.counts.malformed_sets += bad
            raise ParseError("bad sets in datagram", sets=bad)

    def _one_set(
        self, set_id: int, body: bytes, domain: Domain, ctx: Context, v9: bool
    ) -> int | None:
        """Decode one set; return its data records (0 for templates, None when unknown)."""
        if set_id >= 256:
            return self._data(set_id, body, domain, ctx)
        if v9 and set_id in (0, 1):
            parse = parse_v9_templates if set_id == 0 else parse_v9_options_templates
            self._templates(list(parse(body)), domain)
        elif not v9 and set_id in (2, 3):
            self._templates(parse_ipfix_templates(body, options=set_id == 3), domain)
        else:
            self.counts.unknown_sets += 1
        return 0

    # --- templates ------------------------------------------------------------------------

    def _templates(self, items: list[Template | Withdrawal], domain: Domain) -> None:
        exporter, dom = domain
        for item in items:
            if isinstance(item, Withdrawal):
                self.counts.withdrawn += self.templates.withdraw(exporter, dom, item)
                continue
            self.templates.put(exporter, dom, item)
            if item.is_options:
                self.counts.options_templates += 1
            else:
                self.counts.templates += 1
            self._replay(item.template_id, domain)

    def _replay(self, template_id: int, domain: Domain) -> None:
        queue = self._waiting.get(domain)
        if not queue:
            return
        ready = [w for w in queue if w.set_id == template_id]
        if not ready:
            return
        self._waiting[domain] = deque(w for w in queue if w.set_id != template_id)
        self._waiting_bytes -= sum(len(w.body) for w in ready)
        for w in ready:
            self._data(w.set_id, w.body, domain, w.ctx)

    # --- data -----------------------------------------------------------------------------

    def _data(self, set_id: int, body: bytes, domain: Domain, ctx: Context) -> int | None:
        """Decode (or keep waiting) one data set; return its record count, None if unknown."""
        template = self.templates.get(domain[0], domain[1], set_id)
        if template is None:
            self._wait(_Waiting(set_id, body, ctx), domain)
            return None
        if template.is_options:
            return self._options_data(template, body, domain)
        rate, init = self._rate.get(domain, 1), self._init.get(domain, -1)
        if rate != ctx.rate or init != ctx.init_ms:
            ctx = ctx._replace(init_ms=init, rate=rate)
        return self._records(template, body, ctx)

    def _records(self, template: Template, body: bytes, ctx: Context) -> int:
        length = template.record_length
        if length is None:
            records, count = split_variable(template, body)
        else:
            count = len(body) // length
            records = body[: count * length]
        if count:
            self._batch.add(template, records, count, ctx)
        return count

    def _wait(self, waiting: _Waiting, domain: Domain) -> None:
        """Keep data for a template not seen yet: at most ``max_waiting_sets`` per exporter
        domain (the oldest go first) and ``max_waiting_bytes`` in all (then it is dropped)."""
        if self._waiting_bytes + len(waiting.body) > self._max_waiting_bytes:
            self.counts.no_template += 1
            return
        queue = self._waiting.setdefault(domain, deque())
        queue.append(waiting)
        self._waiting_bytes += len(waiting.body)
        if len(queue) > self._max_waiting:
            self._waiting_bytes -= len(queue.popleft().body)
            self.counts.no_template += 1

    def _options_data(self, template: Template, body: bytes, domain: Domain) -> int:
        """Options data (RFC 3954 §6.2, RFC 7011 §3.4.2.2): pick up sampling and boot time."""
        n = 0
        for values in _option_records(template, body):
            n += 1
            self.counts.options_records += 1
            rate = _sampling_rate(values)
            sampler = next((values[k] for k in ie.SAMPLER_IDS if k in values), None)
            if rate is not None and sampler is not None:
                self._samplers[(domain[0], domain[1], sampler)] = rate
            elif rate is not None:
                self._rate[domain] = rate
            if ie.SYSTEM_INIT_MS in values:
                self._init[domain] = values[ie.SYSTEM_INIT_MS]
        self._options_in_message += n
        return n


_OPTION_IES = {
    ie.SAMPLING_INTERVAL,
    ie.SAMPLER_RANDOM_INTERVAL,
    ie.SAMPLING_PACKET_INTERVAL,
    ie.SAMPLING_PACKET_SPACE,
    ie.SAMPLING_SIZE,
    ie.SAMPLING_POPULATION,
    ie.SYSTEM_INIT_MS,
    *ie.SAMPLER_IDS,
}


def _option_records(template: Template, body: bytes) -> Iterable[dict[int, int]]:
    """Values of the options fields we use, one dict per record (options data is rare)."""
    off = 0
    while len(body) - off >= template.min_record_length:
        values: dict[int, int] = {}
        for f in template.fields:
            length = f.length
            if length == ie.VARIABLE_LENGTH:
                length, off = body[off], off + 1
                if length == 255:
                    (length,) = struct.unpack_from(">H", body, off)
                    off += 2
            if off + length > len(body):
                raise ParseError("options record runs past its set")
            if not f.enterprise and f.ie in _OPTION_IES and 1 <= length <= 8:
                values[f.ie] = int.from_bytes(body[off : off + length], "big")
            off += length
        yield values


def _sampling_rate(values: dict[int, int]) -> int | None:
    for key in (ie.SAMPLING_INTERVAL, ie.SAMPLER_RANDOM_INTERVAL):
        if key in values:
            return max(values[key], 1)
    interval, space = values.get(ie.SAMPLING_PACKET_INTERVAL), values.get(ie.SAMPLING_PACKET_SPACE)
    if interval and space is not None:
        return max(round((interval + space) / interval), 1)
    size, population = values.get(ie.SAMPLING_SIZE), values.get(ie.SAMPLING_POPULATION)
    if size and population:
        return max(round(population / size), 1)
    return None


def _walk_sets(message: bytes, offset: int) -> list[tuple[int, bytes]]:
    """Split a message into (set id, body): RFC 3954 §5.1 flowsets, RFC 7011 §3.3 sets.

    Raises ParseError on a set shorter than its own header or longer than the message, so a
    length-0 set cannot make the walk loop.
    """
    sets = []
    while offset < len(message):
        if len(message) - offset < 4:
            raise ParseError("truncated set header", offset=offset)
        set_id, length = _HH.unpack_from(message, offset)
        if length < 4 or offset + length > len(message):
            raise ParseError("bad set length", set_id=set_id, length=length)
        sets.append((set_id, message[offset + 4 : offset + length]))
        offset += length
    return sets


def decode_datagrams(datagrams: Iterable[tuple[bytes, str]], site: str = "") -> FlowDecoder:
    """Feed ``(payload, exporter)`` pairs to a fresh decoder; call ``finish()`` on the result."""
    decoder = FlowDecoder(site)
    for payload, exporter in datagrams:
        decoder.feed(payload, exporter)
    return decoder
