"""The known hosts' views the detection SQL reads, built the same way on DuckDB and Spark.

Inputs (registered by the engine): ``known_input(ip, kind)``, the known hosts the caller
gives (a bare address is kind ``infected``), and ``known_c2_input(ip, port, proto, outside)``,
C2 endpoints known from outside the run (a feed, a partner, an earlier confirmed report;
``outside`` 1) and those an earlier pass of the same run reported (``outside`` 0).

* ``known_hosts(ip, kind)``: the given rows, plus kind ``c2_contact`` for every client the
  run's own ``flows`` show contacting a known C2 endpoint (computed in SQL, in the run);
* ``infected(ip)``: the distinct addresses of the kinds counted as infected, by default
  ``infected`` and ``c2_contact`` (evidence of a bot); ``weak_login`` (the survey got in: a
  device that can be taken over, not proof it was) only when the caller asks for it;
* ``c2_contacts(ip, n)``: when ``c2_contact`` is counted, each client of a known C2 with the
  number of known C2 endpoints it contacted. The detection counts such a client as a bot for
  an endpoint that is not itself known, only along a migration: a channel that began as its
  channel to a known C2 went quiet, or went quiet as that one began (a listing is never
  evidence for the listed endpoint, so a false entry does not confirm itself, and a device's
  clouds polled alongside are not its C2), and only from a host of few kept channels
  (``Params.contact_max_kept``: a NAT's address is many devices); ``infected`` holds the
  other counted kinds.

Feeding a run's own candidates back as known C2 would make their clients "infected" and
lock a false C2 in, so the known C2 list should come from outside the detection.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

import pyarrow as pa

from iotscope.errors import ConfigError

Known = str | tuple[str, str]
Endpoint = tuple[str, int, str]
INFECTED_KINDS = ("infected", "c2_contact")
KINDS = ("infected", "c2_contact", "weak_login")


def known_table(known: Iterable[Known]) -> pa.Table:
    """``(ip, kind)`` rows, distinct and sorted; a bare address is kind ``infected``."""
    pairs = sorted({(k, "infected") if isinstance(k, str) else (k[0], k[1]) for k in known})
    bad = {kind for _, kind in pairs} - set(KINDS)
    if bad:
        raise ConfigError("unknown kind of known host", kinds=sorted(bad), known=KINDS)
    return pa.table(
        {
            "ip": pa.array([p[0] for p in pairs], pa.string()),
            "kind": pa.array([p[1] for p in pairs], pa.string()),
        }
    )


def c2_table(
    endpoints: Iterable[Endpoint], outside: Collection[Endpoint] | None = None
) -> pa.Table:
    """``(ip, port, proto, outside)`` rows of known C2 endpoints, distinct and sorted;
    ``outside`` is 1 for those given from outside the run (all when ``outside`` is None), 0
    for those an earlier pass of the same run reported."""
    rows = sorted({(str(ip), int(port), str(proto)) for ip, port, proto in endpoints})
    given = None if outside is None else {(str(i), int(p), str(q)) for i, p, q in outside}
    return pa.table(
        {
            "ip": pa.array([r[0] for r in rows], pa.string()),
            "port": pa.array([r[1] for r in rows], pa.int32()),
            "proto": pa.array([r[2] for r in rows], pa.string()),
            "outside": pa.array([int(given is None or r in given) for r in rows], pa.int32()),
        }
    )


def view_statements(kinds: Collection[str] = INFECTED_KINDS) -> list[str]:
    """``known_hosts`` and ``infected`` over the inputs (after the ``flows`` view exists)."""
    if not kinds or set(kinds) - set(KINDS):
        raise ConfigError("infected kinds must be among", kinds=sorted(kinds), known=KINDS)
    listed = ", ".join(f"'{k}'" for k in sorted(kinds))
    return [
        "CREATE OR REPLACE TEMP VIEW known_hosts AS SELECT ip, kind FROM known_input UNION "
        "SELECT DISTINCT f.src AS ip, 'c2_contact' AS kind FROM flows f JOIN known_c2_input k "
        "ON f.dst = k.ip AND f.dport = k.port AND f.proto = k.proto",
        f"CREATE OR REPLACE TEMP VIEW infected AS SELECT DISTINCT ip FROM known_hosts "
        f"WHERE kind IN ({listed}) AND kind <> 'c2_contact'",
        "CREATE OR REPLACE TEMP VIEW c2_contacts AS SELECT ip, COUNT(*) AS n FROM ("
        "SELECT DISTINCT f.src AS ip, k.ip AS c2, k.port, k.proto FROM flows f "
        "JOIN known_c2_input k ON f.dst = k.ip AND f.dport = k.port AND f.proto = k.proto"
        f") c WHERE {1 if 'c2_contact' in kinds else 0} = 1 GROUP BY ip",
    ]
