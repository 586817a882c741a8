"""The C2 detection, written once as SQL in the subset DuckDB and Spark SQL share.

Input views (the engines build them, see ``_engines.py``):

* ``flows(site, src, dst, sport, dport, proto, start_ms, end_ms, packets, bytes, tcp_flags)``:
  FLOW_SCHEMA rows, times as epoch milliseconds, already cut to the flow-time window;
* ``infected(ip)``: known-infected addresses (telescope sightings, survey findings, a file,
  clients of a known C2 endpoint); ``c2_contacts(ip)``: those counted by C2 contact.

Stages (one CTE each, after the row filter):

1. ``_ROWS``: service-side rows. A row whose destination port is the lower one (or a
   well-known port) is kept as it is; a row the other way round that lasted at least
   ``long_session_ms`` is turned round (Zeek logs a session it saw start late with the
   roles reversed: an hours-long C2 session with the C2 as originator); other reversed rows
   (replies, inbound scans to high ports) are dropped. DNS and NTP (UDP 53/123) are dropped;
   ``failed`` marks a TCP attempt that never completed (SYN without ACK; when an exporter
   gives no flags, 1-3 packets of at most 180 bytes).
2. ``pair``: per (site, client, endpoint): attempts, failures, span, packets, long sessions,
   bytes per flow (sums, so the steadiness test needs no per-group variance state).
3. ``gaps``/``gap_stats``: gaps between completed session starts, only for pairs whose mean
   gap (known from ``pair``) is in the heartbeat range; periodicity is the coefficient of
   variation of the gaps. The mean filter is exact and keeps the window function off most pairs.
4. ``hosts``: per client, how many endpoints it only probed (all attempts failed, at most
   ``probe_max`` of them): ``scan_targets`` or more is a scanning host.
5. ``pj``: per-pair flags. A *kept channel* is one of: periodic sessions (heartbeat or poll),
   a completed session of ``long_session_ms`` or more, or reconnection (``reconnect_min``
   attempts or more over ``reconnect_span_ms`` or more at a low packet rate: a bot hammering one
   endpoint, half its attempts failing). Also: steady small payloads; flood (``flood_min``
   attempts at ``flood_pps`` packets/s or more, or mostly unanswered flows of
   ``flood_flow_packets`` packets or more each, where a retrying client sends a few: volume
   at a victim, fast or low-and-slow); probe (all of at most
   ``probe_max`` attempts failed: a scan target); stable (periodic from the window's start to
   its end, judged over windows of ``stable_window_ms`` or more); bot client (known-infected
   or scanning in these flows).
6. ``hand``/``moved``: clients that moved here from a periodic endpoint that then fell
   silent, keeping its cadence (the bot stays, its C2 moves); a moved pair counts as a kept
   channel. ``cohort``/``tiered``: the moves of one site within ``cohort_ms`` of each other at
   one cadence are one cohort; a cohort of ``tier_min_clients`` or more clients that left or
   reached ``tier_min_endpoints`` or more endpoints at once, with at least one move into
   another network (``network_prefix``), is a tiered handover, and both its old and its new
   endpoints are flagged (Emotet-style tiers: a botnet's C2 addresses are replaced together,
   each bot following to one of the next tier's). ``cohort`` is read once (its two sides by a
   cross join, not a UNION of two reads): Spark plans each read of a CTE on its own, and the
   two reads made its plan big enough to exhaust a 1 GiB driver heap once.
7. ``base``/``ep``: per site, hosts with kept channels and the bots among them; per endpoint,
   clients and counts of each flag.
8. ``shares``/``lift``/``ev``: the evidence terms in 0-1 (one column ``e_<name>`` per entry of
   :data:`EVIDENCE`), the score the weighted sum of them, kept when ``score >= threshold``.

The score holds two kinds of evidence. *Channel shape* (kept channel, steady payloads,
persistence, several clients, newness) is what every cloud poller shows too: its weights add
up to less than the threshold, so shape alone never reports an endpoint. *Bot evidence* is
about who keeps the channel: the infected lift (the endpoint's share of bots among its
kept-channel clients above the base rate, the share among the site's other such hosts,
scaled to 0-1: a vendor cloud is polled by infected and clean devices alike, a C2 by bots),
times one less the chance that its bots all came by chance (base rate ** bots: three bots
polling a small site's vendor cloud where most devices are bots are weak evidence). The
migration hand-over only adds to it: vendor clouds and CDNs rotate addresses too, their
clients moving together, so hand-over plus shape stays below the threshold. The *tiered*
hand-over is group evidence of its own: several clients of one cadence leaving several
endpoints (or spreading over several new ones) at the same moment, at least one into another
network. A CDN or vendor cloud that rotates moves its clients together to one new address
inside its own prefix; a botnet replaces a whole tier of C2 addresses spread over unrelated
networks. Without a route table the network is the address's /24 (the longest prefix BGP
carries), so a tier rotated inside one /24 is not counted (the lab's C2 pools are two
documentation ranges: this costs the lab recall that an Internet-wide C2 pool would not).
A quiet botnet (bots that neither scan nor are listed) whose C2 never changes tier is not
reported: in flows alone its C2 looks like a clean poller, unless a known C2 endpoint (a
feed, a partner, an earlier run) names some of its bots by contact; then its next addresses
and other tiers carry bot evidence too, and further passes (``contact_passes``) follow the
bots they name in turn. No port number is
evidence, and no test hinges on absolute fan-in alone.

Every weight and limit is a :class:`Params` field, formatted into the text as a numeric
literal so the same string runs on both engines; each reason is rendered from the same
:data:`EVIDENCE` table and the same Params (``_detect.reasons``).
"""

from __future__ import annotations

from dataclasses import dataclass

from iotscope.errors import ConfigError

#: The default score threshold of ``iotscope c2 detect``.
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class Params:
    """Weights (``w_*``), penalties (``p_*``) and limits of the scoring (times in ms)."""

    threshold: float = DEFAULT_THRESHOLD
    # channel shape (sum of weights < threshold: shape alone never reports an endpoint)
    w_channel: float = 0.25
    w_steady: float = 0.05
    w_persistent: float = 0.05
    w_multi: float = 0.05
    w_new: float = 0.05
    # bot evidence
    w_infected: float = 0.35
    w_handover: float = 0.04  # benign clouds rotate too: a booster of bot evidence only
    w_tier: float = 0.25  # a coordinated tiered handover out of one network (see `tiered`)
    # penalties
    p_flood: float = 0.80
    p_probe: float = 0.50
    p_popular: float = 0.50
    p_stable: float = 0.50
    min_sessions: int = 4  # completed sessions before a pair's periodicity counts
    periodic_cv: float = 0.5  # jittered beacons too; Poisson arrivals have CV ~1
    gap_min_ms: int = 20_000
    gap_max_ms: int = 1_200_000  # heartbeats and polls of 20 s - 20 min
    # one completed session this long is a kept channel; at most gap_max_ms, so a long session
    # an exporter cuts at any active timeout is either periodic records or long ones
    long_session_ms: int = 1_200_000
    persistent_ms: int = 1_800_000
    reconnect_min: int = 30  # attempts at one endpoint that make a reconnecting client
    reconnect_span_ms: int = 300_000  # ... over at least this long
    steady_cv: float = 0.5
    steady_max_bytes: int = 20_000
    flood_min: int = 20
    flood_pps: float = 10.0  # packets per second over the pair's span: volume, not beats
    flood_flow_packets: int = 20  # unanswered flows this big (mean) are a flood, not retries
    probe_max: int = 2  # at most this many attempts, all failed: probed (scan target)
    scan_targets: int = 20  # endpoints a client only probed that make it a scanning host
    popular_min_clients: int = 20
    popular_share: float = 0.01
    popular_infected_max: float = 0.3
    new_after_ms: int = 3_600_000
    stable_window_ms: int = 43_200_000  # stability is judged over windows of 12 h or more
    stable_edge: float = 2.0  # a stable pair polls within this many periods of both ends
    handover_lead_ms: int = 60_000  # the old endpoint's last session at most this after
    handover_miss: float = 1.5  # the old one silent for this many periods at the window's end
    cadence_tol: float = 0.3
    handover_gap: float = 3.0  # the new one starts within this many old periods
    # tiered handover: clients of one cadence (within cadence_tol) that moved within cohort_ms
    # of each other are one cohort; it is a tier change when it has tier_min_clients+ clients,
    # tier_min_endpoints+ endpoints on its old or its new side, and at least one move into
    # another network (a different /network_prefix: 8, 16 or 24 bits of IPv4; 32: any address)
    cohort_ms: int = 300_000
    tier_min_clients: int = 2
    tier_min_endpoints: int = 2
    network_prefix: int = 24
    # with known C2 given: further passes in which the endpoints a pass reported are known C2
    # too (a bot in contact with a listed C2 leads to its next address, whose other bots lead
    # to theirs); 0 turns it off. Not used without outside knowledge (see _engines.passes).
    contact_passes: int = 4
    # contact evidence: only for a channel to an endpoint not itself known that began as the
    # client's known-C2 channel went quiet (or the other way round: a migration), from a host
    # keeping at most this many channels (more is many devices, a NAT: one contact names a
    # device, not every channel)
    contact_max_kept: int = 10


@dataclass(frozen=True)
class Evidence:
    """One scoring term: ``sign * Params.<weight> * e_<name>``, with ``e_<name>`` the SQL
    expression ``term`` (0-1, over the ``lift`` stage's columns); ``reason`` is rendered with
    the detection row's columns and the Params fields when the term is above zero."""

    name: str
    weight: str
    term: str
    reason: str
    sign: int = 1


#: The evidence, in the order of the reasons. The one source of the score and its reasons.
EVIDENCE: tuple[Evidence, ...] = (
    Evidence(
        "channel",
        "w_channel",
        "kept_share",
        "kept channel from {kept_clients}/{clients} clients: {periodic_clients} periodic "
        "(every ~{beat_s} s, gaps' CV <= {periodic_cv}), {long_clients} with a session of "
        "{long_session_min}+ min, {reconnect_clients} reconnecting {reconnect_min}+ times",
    ),
    Evidence(
        "infected",
        "w_infected",
        "infected_lift * (1.0 - POWER(base_rate, kept_infected))",
        "kept by {kept_infected} bots ({listed_clients} known-infected, {contact_clients} of "
        "them by contact with a known C2 that went quiet as this one began or began as it "
        "went quiet, from hosts of at most {contact_max_kept} kept channels; "
        "{scanning_clients} scanning {scan_targets}+ hosts in these flows) of {kept_clients}, "
        "above the base rate "
        "among the site's other kept-channel hosts ({base_pct}; all by chance: {chance_pct})",
    ),
    Evidence(
        "handover",
        "w_handover",
        "handover_share",
        "{handover_clients} clients moved here from a periodic endpoint that went silent "
        "(C2 migration)",
    ),
    Evidence(
        "tier",
        "w_tier",
        "tier_share",
        "{tier_clients}/{clients} clients in a tiered handover: {tier_min_clients}+ clients of "
        "one cadence moved within {cohort_min} min of each other between "
        "{tier_min_endpoints}+ endpoints at once (old or new side), at least one into another "
        "/{network_prefix} network (a CDN rotates one address inside its own)",
    ),
    Evidence("multi", "w_multi", "multi", "kept by 2+ clients (fan-in)"),
    Evidence(
        "steady",
        "w_steady",
        "steady_share",
        "small steady payloads ({steady_clients}/{clients} clients; under {steady_max_bytes} "
        "bytes a flow, CV <= {steady_cv})",
    ),
    Evidence(
        "persistent",
        "w_persistent",
        "persistent_share",
        "kept for {persistent_min}+ min ({persistent_clients} clients)",
    ),
    Evidence(
        "new", "w_new", "is_new", "new endpoint: first seen {new_after_min}+ min into the window"
    ),
    Evidence(
        "flood",
        "p_flood",
        "flood_share",
        "penalty: flooded by {flood_clients} clients ({flood_min}+ flows at {flood_pps}+ "
        "packets/s or mostly unanswered flows of {flood_flow_packets}+ packets: DDoS victim?)",
        -1,
    ),
    Evidence(
        "probe",
        "p_probe",
        "probe_share",
        "penalty: {probe_clients}/{clients} clients only probed it (at most {probe_max} "
        "attempts, all failed: scan target?)",
        -1,
    ),
    Evidence(
        "popular",
        "p_popular",
        "popular",
        "penalty: popular service ({clients} clients, {popular_min_clients}+ and "
        "{popular_pct}+ of the site's; bots under {popular_infected_pct})",
        -1,
    ),
    Evidence(
        "stable",
        "p_stable",
        "stable_share * (1.0 - infected_lift)",
        "penalty: polled by {stable_clients}/{clients} clients from the window's start to its "
        "end without change (long-lived service?), less its bots' lift over the base rate "
        "(a C2 that never moved is still kept by bots)",
        -1,
    ),
)


def _rows(params: Params) -> str:
    """The service-side rows (the one filter of stage 1), written out in each stage that reads
    rows rather than shared as a CTE, so no engine materialises the whole filtered table."""
    return f"""(
  SELECT site,
    CASE WHEN rev = 1 THEN dst ELSE src END AS src,
    CASE WHEN rev = 1 THEN src ELSE dst END AS dst,
    CASE WHEN rev = 1 THEN sport ELSE dport END AS dport,
    proto, start_ms, end_ms, packets, bytes, failed
  FROM (
    SELECT site, src, dst, sport, dport, proto, start_ms, end_ms, packets, bytes,
      CASE WHEN NOT (dport < sport OR dport < 1024) AND sport < dport
                AND end_ms - start_ms >= {params.long_session_ms} THEN 1 ELSE 0 END AS rev,
      CASE WHEN proto = 'tcp' AND ((tcp_flags <> 0 AND (tcp_flags & 16) = 0)
                OR (tcp_flags = 0 AND packets <= 3 AND bytes <= 180)) THEN 1 ELSE 0 END AS failed
    FROM flows
    WHERE proto IN ('tcp', 'udp')
      AND NOT (proto = 'udp' AND (dport IN (53, 123) OR sport IN (53, 123)))
  ) r
  WHERE rev = 1 OR dport < sport OR dport < 1024
)"""


_SQL = """
WITH pair AS (
  SELECT site, src, dst, dport, proto, COUNT(*) AS n, SUM(failed) AS failed_n,
    MIN(start_ms) AS first_ms, MAX(start_ms) AS last_ms, MAX(end_ms) AS last_end,
    MIN(CASE WHEN failed = 0 THEN start_ms END) AS ok_first,
    MAX(CASE WHEN failed = 0 THEN start_ms END) AS ok_last,
    SUM(CASE WHEN failed = 0 AND end_ms - start_ms >= {long_session_ms} THEN 1 ELSE 0 END)
      AS long_n,
    SUM(CAST(packets AS DOUBLE)) AS sum_packets,
    SUM(CASE WHEN failed = 1 THEN CAST(packets AS DOUBLE) ELSE 0.0 END) AS failed_packets,
    SUM(CAST(bytes AS DOUBLE)) AS sum_bytes,
    SUM(CAST(bytes AS DOUBLE) * CAST(bytes AS DOUBLE)) AS sum_bytes2
  FROM {rows} f GROUP BY site, src, dst, dport, proto
),
site_tot AS (
  SELECT site, COUNT(DISTINCT src) AS site_clients, MIN(first_ms) AS t0, MAX(last_ms) AS t1
  FROM pair GROUP BY site
),
hosts AS (
  SELECT site, src FROM pair
  WHERE failed_n = n AND n <= {probe_max}
  GROUP BY site, src HAVING COUNT(*) >= {scan_targets}
),
cand AS (
  SELECT site, src, dst, dport, proto FROM pair
  WHERE n - failed_n >= {min_sessions}
    AND ok_last - ok_first BETWEEN {gap_min_ms} * (n - failed_n - 1)
                               AND {gap_max_ms} * (n - failed_n - 1)
),
gaps AS (
  SELECT f.site, f.src, f.dst, f.dport, f.proto,
    f.start_ms - LAG(f.start_ms) OVER (
      PARTITION BY f.site, f.src, f.dst, f.dport, f.proto ORDER BY f.start_ms) AS gap
  FROM {rows} f JOIN cand p ON f.site = p.site AND f.src = p.src AND f.dst = p.dst
    AND f.dport = p.dport AND f.proto = p.proto
  WHERE f.failed = 0
),
gap_stats AS (
  SELECT site, src, dst, dport, proto, AVG(CAST(gap AS DOUBLE)) AS mean_gap,
    STDDEV_SAMP(CAST(gap AS DOUBLE)) AS sd_gap
  FROM gaps WHERE gap IS NOT NULL GROUP BY site, src, dst, dport, proto
),
pf AS (
  SELECT p.site, p.src, p.dst, p.dport, p.proto, p.n, p.failed_n, p.first_ms, p.last_ms,
    p.last_end, g.mean_gap,
    CASE WHEN g.mean_gap BETWEEN {gap_min_ms} AND {gap_max_ms}
              AND g.sd_gap <= {periodic_cv} * g.mean_gap THEN 1 ELSE 0 END AS periodic,
    CASE WHEN p.long_n > 0 THEN 1 ELSE 0 END AS long_lived,
    CASE WHEN p.n >= {reconnect_min} AND p.last_ms - p.first_ms >= {reconnect_span_ms}
              AND p.sum_packets * 1000.0 < {flood_pps} * (p.last_end - p.first_ms + 1000)
              AND NOT (2 * p.failed_n >= p.n
                       AND p.failed_packets >= {flood_flow_packets} * p.failed_n)
         THEN 1 ELSE 0 END AS reconnect,
    CASE WHEN p.n >= 3 AND p.sum_bytes <= {steady_max_bytes} * p.n
              AND p.sum_bytes2 * p.n - p.sum_bytes * p.sum_bytes
                  <= {steady_cv} * {steady_cv} * p.sum_bytes * p.sum_bytes
         THEN 1 ELSE 0 END AS steady,
    CASE WHEN p.n >= {flood_min}
              AND (p.sum_packets * 1000.0 >= {flood_pps} * (p.last_end - p.first_ms + 1000)
                   OR (2 * p.failed_n >= p.n
                       AND p.failed_packets >= {flood_flow_packets} * p.failed_n))
         THEN 1 ELSE 0 END AS flood,
    CASE WHEN p.failed_n = p.n AND p.n <= {probe_max} THEN 1 ELSE 0 END AS probe,
    CASE WHEN g.mean_gap BETWEEN {gap_min_ms} AND {gap_max_ms}
              AND g.sd_gap <= {periodic_cv} * g.mean_gap
              AND st.t1 - st.t0 >= {stable_window_ms}
              AND p.first_ms <= st.t0 + {stable_edge} * g.mean_gap
              AND p.last_ms >= st.t1 - {stable_edge} * g.mean_gap THEN 1 ELSE 0 END AS stable,
    CASE WHEN i.ip IS NULL THEN 0 ELSE 1 END AS listed,
    CASE WHEN h.src IS NULL THEN 0 ELSE 1 END AS scanning,
    CASE WHEN kc.ip IS NULL OR cc.ip IS NULL THEN 0 ELSE 1 END AS is_known,
    CASE WHEN kc.ip IS NULL OR cc.ip IS NULL THEN 0 ELSE kc.outside END AS is_given
  FROM pair p
  JOIN site_tot st ON p.site = st.site
  LEFT JOIN gap_stats g ON p.site = g.site AND p.src = g.src AND p.dst = g.dst
    AND p.dport = g.dport AND p.proto = g.proto
  LEFT JOIN infected i ON p.src = i.ip
  LEFT JOIN known_c2_input kc ON p.dst = kc.ip AND p.dport = kc.port AND p.proto = kc.proto
  LEFT JOIN c2_contacts cc ON p.src = cc.ip
  LEFT JOIN hosts h ON p.site = h.site AND p.src = h.src
),
hand AS (
  SELECT nw.site, nw.src, nw.dst AS new_dst, nw.dport AS new_port, nw.proto AS new_proto,
    od.dst AS old_dst, od.dport AS old_port, od.proto AS old_proto, nw.first_ms AS moved_ms,
    od.mean_gap AS beat,
    CASE WHEN {net_new} <> '' AND {net_old} <> '' AND {net_new} <> {net_old}
         THEN 1 ELSE 0 END AS away
  FROM pf nw JOIN pf od ON nw.site = od.site AND nw.src = od.src
  JOIN site_tot st ON nw.site = st.site
  WHERE od.periodic = 1 AND nw.n - nw.failed_n >= 2 AND nw.dst <> od.dst
    AND nw.first_ms >= od.first_ms
    AND od.last_ms <= nw.first_ms + {handover_lead_ms}
    AND nw.first_ms <= od.last_ms + {handover_gap} * od.mean_gap
    AND st.t1 >= od.last_ms + {handover_miss} * od.mean_gap
    AND nw.last_ms - nw.first_ms BETWEEN (1 - {cadence_tol}) * od.mean_gap * (nw.n - 1)
                                     AND (1 + {cadence_tol}) * od.mean_gap * (nw.n - 1)
),
moved AS (
  SELECT DISTINCT site, src, new_dst AS dst, new_port AS dport, new_proto AS proto FROM hand
),
cohort AS (
  SELECT h.site, h.src, h.new_dst, h.new_port, h.new_proto, h.old_dst, h.old_port, h.old_proto
  FROM hand h JOIN hand g ON h.site = g.site
    AND g.moved_ms BETWEEN h.moved_ms - {cohort_ms} AND h.moved_ms + {cohort_ms}
    AND g.beat BETWEEN (1 - {cadence_tol}) * h.beat AND (1 + {cadence_tol}) * h.beat
  GROUP BY h.site, h.src, h.new_dst, h.new_port, h.new_proto, h.old_dst, h.old_port, h.old_proto
  HAVING COUNT(DISTINCT g.src) >= {tier_min_clients} AND MAX(g.away) = 1
    AND (COUNT(DISTINCT g.old_dst) >= {tier_min_endpoints}
         OR COUNT(DISTINCT g.new_dst) >= {tier_min_endpoints})
),
tiered AS (
  SELECT DISTINCT c.site, c.src,
    CASE WHEN s.side = 0 THEN c.new_dst ELSE c.old_dst END AS dst,
    CASE WHEN s.side = 0 THEN c.new_port ELSE c.old_port END AS dport,
    CASE WHEN s.side = 0 THEN c.new_proto ELSE c.old_proto END AS proto
  FROM cohort c CROSS JOIN (SELECT 0 AS side UNION ALL SELECT 1 AS side) s
),
pk AS (
  SELECT p.*, CASE WHEN m.src IS NULL THEN 0 ELSE 1 END AS moved,
    CASE WHEN t.src IS NULL THEN 0 ELSE 1 END AS tier,
    CASE WHEN p.periodic = 1 OR p.long_lived = 1 OR p.reconnect = 1 OR m.src IS NOT NULL
         THEN 1 ELSE 0 END AS kept
  FROM pf p
  LEFT JOIN moved m ON p.site = m.site AND p.src = m.src AND p.dst = m.dst
    AND p.dport = m.dport AND p.proto = m.proto
  LEFT JOIN tiered t ON p.site = t.site AND p.src = t.src AND p.dst = t.dst
    AND p.dport = t.dport AND p.proto = t.proto
),
pw AS (
  SELECT p.*,
    SUM(kept) OVER (PARTITION BY site, src) AS kept_n,
    MIN(CASE WHEN is_known = 1 THEN last_ms END) OVER (PARTITION BY site, src) AS k_last,
    MAX(CASE WHEN is_known = 1 THEN first_ms END) OVER (PARTITION BY site, src) AS k_first
  FROM pk p
),
pc AS (
  SELECT p.*,
    CASE WHEN p.is_given = 0 AND p.k_last IS NOT NULL AND p.kept_n <= {contact_max_kept}
              AND NOT (p.is_known = 1 AND p.last_ms - p.first_ms <= {handover_lead_ms})
              AND (p.first_ms >= p.k_last - {handover_lead_ms}
                   OR p.k_first >= p.last_ms - {handover_lead_ms})
         THEN 1 ELSE 0 END AS contact
  FROM pw p
),
pj AS (
  SELECT p.*,
    CASE WHEN p.listed = 1 OR p.contact = 1 THEN 1 ELSE 0 END AS known,
    CASE WHEN p.listed = 1 OR p.contact = 1 OR p.scanning = 1 THEN 1 ELSE 0 END AS bot
  FROM pc p
),
base AS (
  SELECT site, COUNT(DISTINCT CASE WHEN kept = 1 THEN src END) AS kept_hosts,
    COUNT(DISTINCT CASE WHEN kept = 1 AND bot = 1 THEN src END) AS bot_hosts
  FROM pj GROUP BY site
),
ep AS (
  SELECT site, dst AS ip, dport AS port, proto, COUNT(*) AS clients,
    SUM(known) AS infected_clients,
    SUM(kept) AS kept_clients, SUM(kept * bot) AS kept_infected,
    SUM(kept * known) AS listed_clients, SUM(kept * contact) AS contact_clients,
    SUM(kept * scanning) AS scanning_clients,
    SUM(periodic) AS periodic_clients, SUM(long_lived) AS long_clients,
    SUM(reconnect) AS reconnect_clients, SUM(moved) AS handover_clients,
    SUM(tier) AS tier_clients,
    SUM(CASE WHEN kept = 1 AND last_ms - first_ms >= {persistent_ms} THEN 1 ELSE 0 END)
      AS persistent_clients,
    SUM(steady) AS steady_clients, SUM(flood) AS flood_clients, SUM(probe) AS probe_clients,
    SUM(stable) AS stable_clients, SUM(n) AS flows, SUM(failed_n) AS failed_flows,
    AVG(CASE WHEN periodic = 1 THEN mean_gap END) AS beat_ms,
    MIN(first_ms) AS first_ms, MAX(last_end) AS last_ms
  FROM pj GROUP BY site, dst, dport, proto
  HAVING SUM(kept) > 0
),
shares AS (
  SELECT e.*, s.site_clients,
    CASE WHEN b.kept_hosts > e.kept_clients
         THEN CAST(b.bot_hosts - e.kept_infected AS DOUBLE) / (b.kept_hosts - e.kept_clients)
         ELSE 0.0 END AS base_rate,
    CAST(e.kept_clients AS DOUBLE) / e.clients AS kept_share,
    CAST(e.kept_infected AS DOUBLE) / e.kept_clients AS infected_share,
    CAST(e.handover_clients AS DOUBLE) / e.clients AS handover_share,
    CAST(e.tier_clients AS DOUBLE) / e.clients AS tier_share,
    CAST(e.persistent_clients AS DOUBLE) / e.clients AS persistent_share,
    CAST(e.steady_clients AS DOUBLE) / e.clients AS steady_share,
    CAST(e.flood_clients AS DOUBLE) / e.clients AS flood_share,
    CAST(e.probe_clients AS DOUBLE) / e.clients AS probe_share,
    CAST(e.stable_clients AS DOUBLE) / e.clients AS stable_share,
    CAST(e.failed_flows AS DOUBLE) / e.flows AS failed_share,
    CASE WHEN e.kept_clients >= 2 THEN 1 ELSE 0 END AS multi,
    CASE WHEN e.first_ms >= s.t0 + {new_after_ms} THEN 1 ELSE 0 END AS is_new,
    CASE WHEN e.clients >= {popular_min_clients}
              AND e.clients >= {popular_share} * s.site_clients
              AND e.infected_clients < {popular_infected_max} * e.clients
         THEN 1 ELSE 0 END AS popular
  FROM ep e JOIN site_tot s ON e.site = s.site
  JOIN base b ON e.site = b.site
),
lift AS (
  SELECT *, CASE WHEN base_rate < 1.0
                 THEN GREATEST(0.0, (infected_share - base_rate) / (1.0 - base_rate))
                 ELSE 0.0 END AS infected_lift
  FROM shares
),
ev AS (
  SELECT *, {terms} FROM lift
),
scored AS (
  SELECT *, LEAST(1.0, GREATEST(0.0, {score})) AS score FROM ev
)
SELECT site, ip, port, proto, score, {evidence_columns}, clients, infected_clients,
  kept_clients, kept_infected, listed_clients, contact_clients, scanning_clients,
  periodic_clients,
  long_clients, reconnect_clients, handover_clients, tier_clients, stable_clients, base_rate,
  persistent_clients, steady_clients, flood_clients, probe_clients, flows, failed_share,
  beat_ms, multi, is_new, popular, first_ms, last_ms
FROM scored
WHERE score >= {threshold}
ORDER BY site, score DESC, ip, port
"""


def _literal(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(int(value))


def _network(column: str, prefix: int) -> str:
    """The leading ``prefix`` bits of an IPv4 address column as text ('' for IPv6), in the
    regular-expression subset both engines share (no backslash escapes); 32 is the address
    itself (any other address counts as another network: no network test)."""
    if prefix not in (8, 16, 24, 32):
        raise ConfigError("network_prefix must be 8, 16, 24 or 32", network_prefix=prefix)
    if prefix == 32:
        return column
    octets = "[.]".join(["[0-9]+"] * (prefix // 8))
    return f"regexp_extract({column}, '^({octets})[.]', 1)"


def detection_sql(params: Params | None = None) -> str:
    """The detection query with ``params`` filled in as numeric literals."""
    p = params or Params()
    values = {k: _literal(v) for k, v in p.__dict__.items()}
    terms = ", ".join(f"({e.term.format(**values)}) AS e_{e.name}" for e in EVIDENCE)
    score = " ".join(
        f"{'+' if e.sign > 0 else '-'} {values[e.weight]} * e_{e.name}" for e in EVIDENCE
    )
    columns = ", ".join(f"e_{e.name}" for e in EVIDENCE)
    return _SQL.format(
        rows=_rows(p),
        terms=terms,
        score=score,
        evidence_columns=columns,
        net_new=_network("nw.dst", p.network_prefix),
        net_old=_network("od.dst", p.network_prefix),
        **values,
    )
