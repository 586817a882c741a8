"""An ISP's C2 contacts for the centre, from a stored detection run and the site's own flows.

For each C2 candidate of the run (``c2 detect``), the site's flows to it (destination address,
port and protocol) are grouped per local client and UTC day in DuckDB: first and last seen,
flows. Each client becomes a bot pseudonym under the ISP's secret key (``pseudonym_key``): the
subscriber holding the address then, from the ISP's lease log, when there is one (so a bot keeps
its name across address changes), else the address itself (``addr:`` prefix: stable only while
the address is). No address or subscriber id leaves in the rows.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from iotscope.attribution import subscribers_at
from iotscope.config import Settings, settings
from iotscope.errors import ConfigError, IotscopeError
from iotscope.flows import flows_root, register_flows
from iotscope.records import C2Candidate, C2Run
from iotscope.store import Store
from iotscope.store.centre import C2Contact, pseudonym, save_c2_contacts
from iotscope.tenancy import Principal

_SQL = """
SELECT f.src AS client, f.dst AS ip, f.dport AS port,
       CAST(timezone('UTC', f.start) AS DATE) AS day,
       min(f.start) AS first_seen, max(f."end") AS last_seen, count(*) AS flows
FROM {view} f JOIN candidates c ON f.dst = c.ip AND f.dport = c.port AND f.proto = c.proto
WHERE f.site = $site {window}
GROUP BY ALL ORDER BY day, ip, port, client
"""


def pseudonym_key(isp: str, config: Settings | None = None) -> bytes:
    """The ISP's secret pseudonym key: ``IOTSCOPE_HOME/keys/pseudonym-<isp>.key`` (32 random
    bytes, created mode 0600 on first use). Never shared: the centre sees only the names."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", isp)
    path = (config or settings()).home / "keys" / f"pseudonym-{slug}.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key := os.urandom(32))
    return key


def client_days(
    root: Path, run: C2Run, candidates: Sequence[C2Candidate]
) -> list[tuple[str, str, int, date, datetime, datetime, int]]:
    """(client, c2 ip, port, day, first_seen, last_seen, flows) over the run's window."""
    if not candidates:
        return []
    table = pa.table({"ip": [str(c.ip) for c in candidates], "port": [c.port for c in candidates],
                      "proto": [c.proto for c in candidates]})  # fmt: skip
    window = ""
    if run.since is not None:
        window += " AND f.start >= $since"
    if run.until is not None:
        window += " AND f.start < $until"
    params: dict[str, object] = {"site": run.site}
    params.update({k: v for k, v in (("since", run.since), ("until", run.until)) if v})
    try:
        with duckdb.connect() as con:
            con.execute("SET TimeZone = 'UTC'")
            view = register_flows(con, root, site=run.site, since=run.since, until=run.until)
            con.register("candidates", table)
            rows = con.execute(_SQL.format(view=view, window=window), params).fetchall()
    except duckdb.Error as exc:
        raise IotscopeError("DuckDB contact query failed", reason=str(exc)[:300]) from exc
    return [(str(a), str(b), int(p), d, _utc(t0), _utc(t1), int(n))
            for a, b, p, d, t0, t1, n in rows]  # fmt: skip


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def run_contacts(
    store: Store,
    principal: Principal,
    isp: str,
    site: str,
    *,
    run_id: str | None = None,
    root: Path | None = None,
    key: bytes | None = None,
) -> list[C2Contact]:
    """The contacts of ``isp``'s clients with the C2s of one run at ``site`` (default: its
    newest run). Only the ISP itself (or the centre) may derive them: they read its leases."""
    if not principal.isp(isp):
        raise ConfigError("only the ISP derives its own contacts", isp=isp)
    runs = store.c2_runs(site)
    run = next((r for r in runs if run_id in (None, r.id)), None)
    if run is None:
        raise ConfigError("no stored detection run for this site", site=site, run=run_id)
    found = client_days(root or flows_root(), run, store.c2_run_candidates(run.id, site))
    secret = key or pseudonym_key(isp)
    names: dict[str, str] = {}
    first: dict[
        tuple[str, date], datetime
    ] = {}  # the client's subscriber: at its day's first contact
    for client, _ip, _port, day, t0, _t1, _flows in found:
        first[(client, day)] = min(t0, first.get((client, day), t0))
    keys = list(first)
    subs = subscribers_at(store, principal, isp, [(c, first[(c, d)]) for c, d in keys])
    holder = dict(zip(keys, subs, strict=True))
    out = []
    for client, ip, port, day, t0, t1, flows in found:
        who = holder[(client, day)]
        subject = who if who is not None else f"addr:{client}"
        if subject not in names:
            names[subject] = pseudonym(secret, subject)
        bot = names[subject]
        out.append(C2Contact(isp, ip, port, None, bot, day, t0, t1, flows))
    return out


def record_contacts(
    store: Store,
    principal: Principal,
    isp: str,
    site: str,
    *,
    run_id: str | None = None,
    root: Path | None = None,
    key: bytes | None = None,
) -> int:
    """Derive (:func:`run_contacts`) and store the contacts; how many rows."""
    rows = run_contacts(store, principal, isp, site, run_id=run_id, root=root, key=key)
    return save_c2_contacts(store, principal, rows)
