"""Detection measured against the lab's ground truth (``truth.json`` of ``iotscope lab traffic``).

The known-infected list is the caller's: from the telescope's output over the same world's
darknet capture and the survey's findings (``iotscope c2 evaluate``, the benchmark), never the
truth's scanners; :func:`oracle_infected` (the truth's bots) is only for a labelled extra.

* Precision and recall at the threshold: candidates (ip, port, site) of one run over the whole
  flow window against the truth's C2 entries (ip, port, site) of the sites evaluated.
* Time to detect: detection replayed over flow time every ``step`` (default 5 minutes), each
  run over the flows of the last ``lookback`` before the step; for each C2 address whose first
  bot contact comes at least ``settle`` after the flows begin (a new or migrated C2), the time
  from that first contact to the first step that flags it. Addresses not flagged within
  ``horizon`` count as missed.
"""

from __future__ import annotations

import ipaddress
import json
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from iotscope.c2._engines import Window, parquet_source, run_duckdb
from iotscope.c2._sql import Params
from iotscope.c2._views import Endpoint
from iotscope.errors import ConfigError

Key = tuple[str, int, str]  # ip, port, site
MIN = 60_000


@dataclass
class Evaluation:
    """Precision, recall and time-to-detect (seconds) of one evaluation."""

    threshold: float
    tp: list[Key] = field(default_factory=list)
    fp: list[Key] = field(default_factory=list)
    fn: list[Key] = field(default_factory=list)
    ttd_s: dict[Key, float] = field(default_factory=dict)
    missed: list[Key] = field(default_factory=list)

    @property
    def precision(self) -> float:
        found = len(self.tp) + len(self.fp)
        return len(self.tp) / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = len(self.tp) + len(self.fn)
        return len(self.tp) / wanted if wanted else 1.0

    @property
    def ttd_median_s(self) -> float | None:
        return statistics.median(self.ttd_s.values()) if self.ttd_s else None

    @property
    def ttd_max_s(self) -> float | None:
        return max(self.ttd_s.values()) if self.ttd_s else None

    def summary(self) -> dict[str, Any]:
        """The figures as one JSON-ready dict."""
        return {
            "threshold": self.threshold,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "tp": len(self.tp),
            "fp": len(self.fp),
            "fn": len(self.fn),
            "new_c2": len(self.ttd_s) + len(self.missed),
            "ttd_median_s": self.ttd_median_s,
            "ttd_max_s": self.ttd_max_s,
            "ttd_missed": len(self.missed),
            "false_positives": [list(k) for k in self.fp],
            "false_negatives": [list(k) for k in self.fn],
        }


def load_truth(path: Path) -> dict[str, Any]:
    """Read ``truth.json``; a missing file or a wrong shape is a ConfigError naming the part."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError("cannot read truth file", path=str(path), reason=str(exc)) from exc
    for part, fields in (("c2", ("ip", "port", "site")), ("scanners", ("src", "kind"))):
        items = data.get(part) if isinstance(data, dict) else None
        if not isinstance(items, list) or not all(
            isinstance(x, dict) and all(f in x for f in fields) for x in items
        ):
            raise ConfigError("truth file lacks a well-formed part", path=str(path), part=part)
    return data


def truth_c2(truth: dict[str, Any], site: str | None = None) -> set[Key]:
    """The truth's C2 entries as (ip, port, site) keys, optionally of one site."""
    return {
        (c["ip"], int(c["port"]), c["site"])
        for c in truth["c2"]
        if site is None or c["site"] == site
    }


def oracle_infected(truth: dict[str, Any]) -> set[str]:
    """The truth's bots (``infected[].ip``): an oracle no ISP has, for a labelled extra column
    only; the measured figures take the infected list from the telescope and the survey."""
    return {str(x["ip"]) for x in truth.get("infected", []) if isinstance(x, dict) and "ip" in x}


def fp_by_family(fp: Iterable[Key], truth: dict[str, Any]) -> dict[str, int]:
    """False positives counted by the benign family the truth names for them: the endpoint in
    ``benign[]`` (``ip, port, site, family``), else the address in ``benign_ranges[]``
    (``family, first, last``), else ``other``."""
    family = {
        (str(b["ip"]), int(b["port"]), str(b["site"])): str(b["family"])
        for b in truth.get("benign", [])
        if isinstance(b, dict) and {"ip", "port", "site", "family"} <= set(b)
    }
    ranges = [
        (int(ipaddress.ip_address(r["first"])), int(ipaddress.ip_address(r["last"])), r["family"])
        for r in truth.get("benign_ranges", [])
        if isinstance(r, dict) and {"first", "last", "family"} <= set(r)
    ]
    out: dict[str, int] = {}
    for key in fp:
        name = family.get(key) or _in_range(key[0], ranges) or "other"
        out[name] = out.get(name, 0) + 1
    return out


def _in_range(ip: str, ranges: list[tuple[int, int, str]]) -> str | None:
    try:
        value = int(ipaddress.ip_address(ip))
    except ValueError:
        return None
    return next((str(f) for lo, hi, f in ranges if lo <= value <= hi), None)


@dataclass(frozen=True)
class _Known:
    """The known hosts and known C2 endpoints every run of one evaluation starts from."""

    hosts: set[str]
    c2: tuple[Endpoint, ...]


def _keys(rows: Iterable[dict[str, Any]]) -> set[Key]:
    return {(str(r["ip"]), int(r["port"]), str(r["site"])) for r in rows}


def _first_contacts(con: duckdb.DuckDBPyConnection, base: str, wanted: set[Key]) -> dict[Key, int]:
    rows = con.execute(
        f"SELECT dst, dport, site, MIN(epoch_ms(start)), MIN(MIN(epoch_ms(start))) OVER () "
        f"FROM {base} GROUP BY dst, dport, site"
    ).fetchall()
    out = {(d, int(p), s): int(t) for d, p, s, t, _ in rows if (d, int(p), s) in wanted}
    out[("", 0, "")] = int(rows[0][4]) if rows else 0
    return out


def evaluate(
    source: Path | pa.Table,
    truth: dict[str, Any],
    *,
    infected: Iterable[str] = (),
    site: str | None = None,
    params: Params | None = None,
    step_ms: int = 5 * MIN,
    lookback_ms: int = 360 * MIN,
    horizon_ms: int = 60 * MIN,
    settle_ms: int = 60 * MIN,
    known_c2: Iterable[Endpoint] = (),
) -> Evaluation:
    """Precision/recall of one full run and time-to-detect by incremental replay (DuckDB);
    ``step_ms <= 0`` skips the replay. ``known_c2``: C2 endpoints known from outside (a feed,
    earlier runs), whose clients count as infected by contact, in every run of the replay."""
    params = params or Params()
    infected = set(infected)
    known = _Known(infected, tuple(sorted(set(known_c2))))
    wanted = truth_c2(truth, site)
    con = duckdb.connect()
    try:
        if isinstance(source, pa.Table):
            con.register("eval_flows", source)
            base = "eval_flows"
        else:
            base = parquet_source(source, site)
        window = Window(site=site)
        found = _keys(run_duckdb(source, infected, window, params, con=con, known_c2=known.c2))
        result = Evaluation(
            params.threshold, sorted(found & wanted), sorted(found - wanted), sorted(wanted - found)
        )
        if step_ms <= 0:  # precision and recall only
            return result
        firsts = _first_contacts(con, base, wanted)
        _replay(
            result,
            source,
            known,
            site,
            params,
            con,
            firsts,
            (step_ms, lookback_ms, horizon_ms, settle_ms),
        )
    finally:
        con.close()
    return result


def _replay(
    result: Evaluation,
    source: Path | pa.Table,
    known: _Known,
    site: str | None,
    params: Params,
    con: duckdb.DuckDBPyConnection,
    firsts: dict[Key, int],
    timing: tuple[int, int, int, int],
) -> None:
    """Fill ``result.ttd_s`` and ``result.missed`` by replaying detection step by step."""
    step, lookback, horizon, settle = timing
    start = firsts.pop(("", 0, ""))
    pending = {k: t for k, t in firsts.items() if t >= start + settle}
    grid = sorted(
        {(t // step + 1 + k) * step for t in pending.values() for k in range(horizon // step + 1)}
    )
    for now in grid:
        due = {k for k, t in pending.items() if t < now <= t + horizon}
        if not due:
            continue
        window = Window(site, _dt(now - lookback), _dt(now))
        rows = run_duckdb(source, known.hosts, window, params, con=con, known_c2=known.c2)
        flagged = _keys(rows) & due
        for key in flagged:
            result.ttd_s[key] = (now - pending.pop(key)) / 1000
    result.missed = sorted(pending)


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)
