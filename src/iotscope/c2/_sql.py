"""The C2 detection, written once as SQL in the subset DuckDB and Spark SQL share.

Input views (the engines build them, see ``_engines.py``):

* ``flows(site, src, dst, sport, dport, proto, start_ms, end_ms, packets, bytes, tcp_flags)``:
  FLOW_SCHEMA rows, times as epoch milliseconds, already cut to the flow-time window;
* ``infected(ip)``: known-infected addresses (telescope sightings, survey findings, a file).

Stages (one CTE each, after the row filter):

1. ``_ROWS``: service-side rows only (the destination port is the lower one or a well-known
   port), DNS and NTP (UDP 53/123) dropped, ``failed`` marks a TCP attempt that never completed
   (SYN without ACK; when an exporter gives no flags, 1-3 packets of at most 180 bytes).
2. ``pair``: per (site, client, endpoint): sessions, span, failures, bytes per flow
   (sums, so the steadiness test needs no per-group variance state); ``site_tot`` from it.
3. ``gaps``/``gap_stats``: gaps between session starts of pairs with enough completed
   sessions whose mean gap (span / (sessions - 1), known from ``pair``) is in the heartbeat
   range; periodicity is the coefficient of variation (stddev / mean) of the gaps. The mean
   filter is exact, and keeps the one window function off most benign pairs.
4. ``pj``: per-pair flags: periodic (heartbeat), persistent, steady small payloads, flood,
   stable (periodic from within ``stable_edge`` periods of the window's start to as near its
   end, judged only over windows of ``stable_window_ms`` or more: a long-lived service such
   as a vendor cloud keepalive; a C2 address is new or migrates away). Stability does not
   excuse an endpoint on a C2-typical port (telnet, IRC, ...): vendor clouds poll over
   HTTPS/MQTT, and a C2 that never moved in the window still polls on its port.
5. ``handover``: clients that moved here from a periodic endpoint that then fell silent (the
   old one's last session came within one minute after, or three of its periods before, the first
   one here, it has been silent for 1.5 of its periods at the window's end, and sessions here keep
   the old one's cadence within ``cadence_tol``): the bot stays, its C2 moves.
6. ``base``/``ep``: per site, hosts with periodic traffic and the known-infected among them;
   per endpoint (site, dst, dport, proto): clients, infected clients,
   flag counts.
7. ``shares``/``lift``/``scored``: shares, popular-service and newness tests, the infected
   lift (the endpoint's infected share above the base rate, the infected share of the site's
   other periodic hosts, scaled to 0-1: a vendor
   cloud is polled by infected and clean devices alike, a C2 by bots), the score, kept when
   ``score >= threshold``. No test hinges on absolute fan-in alone: stability and lift hold
   at any site size. Having no infected client is not counted against an endpoint: families
   that do not scan (Emotet) never reach a telescope's list.

The evidence weights and limits are data (:class:`Params`), formatted into the text as numeric
literals, so the same string runs on both engines. Reasons are rendered from the returned
columns in ``_detect.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Ports C2 families are known to use (Mirai 23/2323 and 48101, IRC 6667-6669, Emotet
#: 8080/7080, assorted 1312, 666, 5555). 80/443 are too common to count as evidence.
C2_PORTS = (23, 2323, 48101, 6667, 6668, 6669, 7080, 8080, 8443, 1312, 666, 5555, 3074)
#: The default score threshold of ``iotscope c2 detect``.
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class Params:
    """Weights (``w_*``), penalties (``p_*``) and limits of the scoring (times in ms)."""

    threshold: float = DEFAULT_THRESHOLD
    w_periodic: float = 0.30
    w_infected: float = 0.35
    w_handover: float = 0.50
    w_multi: float = 0.10
    w_port: float = 0.10
    w_steady: float = 0.10
    w_persistent: float = 0.10
    w_new: float = 0.05
    p_failed: float = 0.60
    p_flood: float = 0.80
    p_popular: float = 0.50
    p_stable: float = 0.35
    infected_full: int = 3  # infected clients that give the full infected weight
    min_sessions: int = 4  # completed sessions before a pair's periodicity counts
    periodic_cv: float = 0.25
    gap_min_ms: int = 20_000
    gap_max_ms: int = 1_200_000  # heartbeats and polls of 20 s - 20 min
    persistent_ms: int = 1_800_000
    steady_cv: float = 0.5
    steady_max_bytes: int = 20_000
    flood_gap_ms: int = 10_000
    flood_min: int = 20
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
    c2_ports: tuple[int, ...] = field(default=C2_PORTS)


#: The service-side rows (the one filter of stage 1). Written out in each stage that reads
#: rows rather than shared as a CTE, so no engine materialises the whole filtered table.
_ROWS = """(
  SELECT site, src, dst, dport, proto, start_ms, end_ms, bytes,
    CASE WHEN proto = 'tcp' AND ((tcp_flags <> 0 AND (tcp_flags & 16) = 0)
              OR (tcp_flags = 0 AND packets <= 3 AND bytes <= 180)) THEN 1 ELSE 0 END AS failed
  FROM flows
  WHERE proto IN ('tcp', 'udp')
    AND NOT (proto = 'udp' AND (dport IN (53, 123) OR sport IN (53, 123)))
    AND (dport < sport OR dport < 1024)
)"""

_SQL = """
WITH pair AS (
  SELECT site, src, dst, dport, proto, COUNT(*) AS n, SUM(failed) AS failed_n,
    MIN(start_ms) AS first_ms, MAX(start_ms) AS last_ms, MAX(end_ms) AS last_end,
    MIN(CASE WHEN failed = 0 THEN start_ms END) AS ok_first,
    MAX(CASE WHEN failed = 0 THEN start_ms END) AS ok_last,
    SUM(CAST(bytes AS DOUBLE)) AS sum_bytes,
    SUM(CAST(bytes AS DOUBLE) * CAST(bytes AS DOUBLE)) AS sum_bytes2
  FROM {rows} f GROUP BY site, src, dst, dport, proto
),
site_tot AS (
  SELECT site, COUNT(DISTINCT src) AS site_clients, MIN(first_ms) AS t0, MAX(last_ms) AS t1
  FROM pair GROUP BY site
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
pj AS (
  SELECT p.site, p.src, p.dst, p.dport, p.proto, p.n, p.failed_n, p.first_ms, p.last_ms,
    p.last_end, g.mean_gap,
    CASE WHEN g.mean_gap BETWEEN {gap_min_ms} AND {gap_max_ms}
              AND g.sd_gap <= {periodic_cv} * g.mean_gap THEN 1 ELSE 0 END AS periodic,
    CASE WHEN p.n >= 3 AND p.sum_bytes <= {steady_max_bytes} * p.n
              AND p.sum_bytes2 * p.n - p.sum_bytes * p.sum_bytes
                  <= {steady_cv} * {steady_cv} * p.sum_bytes * p.sum_bytes
         THEN 1 ELSE 0 END AS steady,
    CASE WHEN p.n >= {flood_min}
              AND p.last_ms - p.first_ms < {flood_gap_ms} * (p.n - 1) THEN 1 ELSE 0 END AS flood,
    CASE WHEN g.mean_gap BETWEEN {gap_min_ms} AND {gap_max_ms}
              AND g.sd_gap <= {periodic_cv} * g.mean_gap
              AND st.t1 - st.t0 >= {stable_window_ms}
              AND p.first_ms <= st.t0 + {stable_edge} * g.mean_gap
              AND p.last_ms >= st.t1 - {stable_edge} * g.mean_gap THEN 1 ELSE 0 END AS stable,
    CASE WHEN i.ip IS NULL THEN 0 ELSE 1 END AS infected
  FROM pair p
  JOIN site_tot st ON p.site = st.site
  LEFT JOIN gap_stats g ON p.site = g.site AND p.src = g.src AND p.dst = g.dst
    AND p.dport = g.dport AND p.proto = g.proto
  LEFT JOIN infected i ON p.src = i.ip
),
handover AS (
  SELECT nw.site, nw.dst, nw.dport, nw.proto, COUNT(DISTINCT nw.src) AS handover_clients
  FROM pj nw JOIN pj od ON nw.site = od.site AND nw.src = od.src
  JOIN site_tot st ON nw.site = st.site
  WHERE od.periodic = 1 AND nw.n >= 2 AND nw.dst <> od.dst AND nw.first_ms >= od.first_ms
    AND od.last_ms <= nw.first_ms + {handover_lead_ms}
    AND nw.first_ms <= od.last_ms + {handover_gap} * od.mean_gap
    AND st.t1 >= od.last_ms + {handover_miss} * od.mean_gap
    AND nw.last_ms - nw.first_ms BETWEEN (1 - {cadence_tol}) * od.mean_gap * (nw.n - 1)
                                     AND (1 + {cadence_tol}) * od.mean_gap * (nw.n - 1)
  GROUP BY nw.site, nw.dst, nw.dport, nw.proto
),
base AS (
  SELECT site, COUNT(DISTINCT CASE WHEN periodic = 1 THEN src END) AS periodic_hosts,
    COUNT(DISTINCT CASE WHEN periodic = 1 AND infected = 1 THEN src END) AS infected_hosts
  FROM pj GROUP BY site
),
ep AS (
  SELECT site, dst AS ip, dport AS port, proto, COUNT(*) AS clients,
    SUM(infected) AS infected_clients, SUM(periodic) AS periodic_clients,
    SUM(periodic * infected) AS periodic_infected,
    SUM(CASE WHEN periodic = 1 AND last_ms - first_ms >= {persistent_ms} THEN 1 ELSE 0 END)
      AS persistent_clients,
    SUM(steady) AS steady_clients, SUM(flood) AS flood_clients, SUM(stable) AS stable_clients,
    SUM(n) AS flows, SUM(failed_n) AS failed_flows,
    AVG(CASE WHEN periodic = 1 THEN mean_gap END) AS beat_ms,
    MIN(first_ms) AS first_ms, MAX(last_end) AS last_ms
  FROM pj GROUP BY site, dst, dport, proto
  HAVING SUM(periodic) > 0 OR SUM(infected) > 0 OR SUM(CASE WHEN n >= 2 THEN 1 ELSE 0 END) > 0
),
shares AS (
  SELECT e.*, s.site_clients,
    CASE WHEN b.periodic_hosts > e.periodic_clients
         THEN CAST(b.infected_hosts - e.periodic_infected AS DOUBLE)
              / (b.periodic_hosts - e.periodic_clients)
         ELSE 0.0 END AS base_rate,
    CAST(e.stable_clients AS DOUBLE) / e.clients AS stable_share,
    COALESCE(h.handover_clients, 0) AS handover_clients,
    CAST(COALESCE(h.handover_clients, 0) AS DOUBLE) / e.clients AS handover_share,
    CAST(e.periodic_clients AS DOUBLE) / e.clients AS periodic_share,
    CAST(e.infected_clients AS DOUBLE) / e.clients AS infected_share,
    CAST(e.persistent_clients AS DOUBLE) / e.clients AS persistent_share,
    CAST(e.steady_clients AS DOUBLE) / e.clients AS steady_share,
    CAST(e.flood_clients AS DOUBLE) / e.clients AS flood_share,
    CAST(e.failed_flows AS DOUBLE) / e.flows AS failed_share,
    CASE WHEN e.periodic_clients >= 2 OR e.infected_clients >= 2
              OR COALESCE(h.handover_clients, 0) >= 2 THEN 1 ELSE 0 END AS multi,
    CASE WHEN e.port IN ({c2_ports}) THEN 1 ELSE 0 END AS c2_port,
    CASE WHEN e.first_ms >= s.t0 + {new_after_ms} THEN 1 ELSE 0 END AS is_new,
    CASE WHEN e.clients >= {popular_min_clients}
              AND e.clients >= {popular_share} * s.site_clients
              AND e.infected_clients < {popular_infected_max} * e.clients
         THEN 1 ELSE 0 END AS popular
  FROM ep e JOIN site_tot s ON e.site = s.site
  JOIN base b ON e.site = b.site
  LEFT JOIN handover h ON e.site = h.site AND e.ip = h.dst AND e.port = h.dport
    AND e.proto = h.proto
),
lift AS (
  SELECT *, CASE WHEN base_rate < 1.0
                 THEN GREATEST(0.0, (infected_share - base_rate) / (1.0 - base_rate))
                 ELSE 0.0 END AS infected_lift
  FROM shares
),
scored AS (
  SELECT *, LEAST(1.0, GREATEST(0.0,
      {w_periodic} * periodic_share
    + {w_infected} * infected_lift * LEAST(1.0, infected_clients / {infected_full}.0)
    + {w_handover} * handover_share
    + {w_multi} * multi + {w_port} * c2_port + {w_steady} * steady_share
    + {w_persistent} * persistent_share + {w_new} * is_new
    - {p_failed} * failed_share - {p_flood} * flood_share - {p_popular} * popular
    - {p_stable} * stable_share * (1 - c2_port))) AS score
  FROM lift
)
SELECT site, ip, port, proto, score, clients, infected_clients, periodic_clients,
  handover_clients, stable_clients, base_rate,
  persistent_clients, steady_clients, flood_clients, flows, failed_share, beat_ms, multi,
  c2_port, is_new, popular, first_ms, last_ms
FROM scored
WHERE score >= {threshold}
ORDER BY site, score DESC, ip, port
"""


def detection_sql(params: Params | None = None) -> str:
    """The detection query with ``params`` filled in as numeric literals."""
    p = params or Params()
    values = {k: v for k, v in p.__dict__.items() if k != "c2_ports"}
    values["c2_ports"] = ", ".join(str(int(x)) for x in p.c2_ports)
    return _SQL.format(rows=_ROWS, **values)
