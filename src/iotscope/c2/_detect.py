"""C2 candidates from the detection rows, their reasons, and the known-infected inputs."""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from iotscope.c2._engines import Row, Window, run_duckdb, run_spark
from iotscope.c2._sql import EVIDENCE, Params
from iotscope.c2._views import INFECTED_KINDS, Endpoint, Known
from iotscope.errors import ConfigError
from iotscope.records import C2Candidate

Engine = Literal["duckdb", "spark"]


def _ms(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def _figures(row: Row, params: Params) -> dict[str, Any]:
    """The values a reason template may name: the row's columns, every Params field, and
    the same fields in the units a reader wants (minutes, seconds, percent)."""
    base = float(row.get("base_rate") or 0)
    return {
        **params.__dict__,
        **row,
        "beat_s": round(float(row.get("beat_ms") or 0) / 1000),
        "base_pct": f"{base:.0%}",
        "chance_pct": f"{base ** int(row.get('kept_infected') or 0):.0%}",
        "long_session_min": round(params.long_session_ms / 60_000),
        "cohort_min": round(params.cohort_ms / 60_000),
        "persistent_min": round(params.persistent_ms / 60_000),
        "new_after_min": round(params.new_after_ms / 60_000),
        "popular_pct": f"{params.popular_share:.0%}",
        "popular_infected_pct": f"{params.popular_infected_max:.0%}",
    }


def reasons(row: Row, params: Params | None = None) -> tuple[str, ...]:
    """The evidence of one detection row, rendered from :data:`EVIDENCE` with the Params the
    SQL ran with: each term above zero, with its signed contribution to the score first."""
    params = params or Params()
    values = _figures(row, params)
    out = []
    for e in EVIDENCE:
        term = float(row[f"e_{e.name}"] or 0)
        if term > 0:
            points = e.sign * float(getattr(params, e.weight)) * term
            out.append(f"{points:+.2f} " + e.reason.format(**values))
    return tuple(out)


def candidate(row: Row, params: Params | None = None) -> C2Candidate:
    """One detection row as the canonical record (score rounded to 4 places), its reasons
    rendered with the ``params`` the row was computed with."""
    return C2Candidate(
        ip=ipaddress.ip_address(row["ip"]),
        port=int(row["port"]),
        proto=row["proto"],
        score=round(float(row["score"]), 4),
        clients=int(row["clients"]),
        infected_clients=int(row["infected_clients"]),
        first_seen=_ms(row["first_ms"]),
        last_seen=_ms(row["last_ms"]),
        reasons=reasons(row, params),
        site=row["site"],
    )


def detect(
    source: Path | pa.Table,
    *,
    infected: Iterable[Known] = (),
    window: Window | None = None,
    params: Params | None = None,
    engine: Engine = "duckdb",
    spark: Any = None,
    infected_kinds: Collection[str] = INFECTED_KINDS,
    known_c2: Iterable[Endpoint] = (),
) -> list[C2Candidate]:
    """Score the endpoints of ``source``'s flows; return candidates at or above the threshold.

    ``infected``: known hosts (a bare address is kind ``infected``, else ``(ip, kind)``);
    ``infected_kinds``: the kinds counted as bots; ``known_c2``: ``(ip, port, proto)`` C2
    endpoints known from outside the run, whose clients become kind ``c2_contact``."""
    window = window or Window()
    kw: dict[str, Any] = {"infected_kinds": infected_kinds, "known_c2": known_c2}
    if engine == "duckdb":
        rows = run_duckdb(source, infected, window, params, **kw)
    elif engine == "spark":
        rows = run_spark(source, infected, window, params, spark=spark, **kw)
    else:
        raise ConfigError("engine must be duckdb or spark", engine=engine)
    return [candidate(r, params) for r in rows]


def infected_from_file(path: Path) -> set[str]:
    """One address per line (``#`` comments and blank lines skipped); a bad line is an error."""
    out: set[str] = set()
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            out.add(str(ipaddress.ip_address(text)))
        except ValueError as exc:
            raise ConfigError("bad address in --infected file", path=str(path), line=no) from exc
    return out


def known_infected(store: Any, extra: Path | None = None, *, weak_login: bool = False) -> set[str]:
    """The addresses ``c2 detect`` counts as bots: telescope sightings (mirai, iot) and the
    ``extra`` file, plus survey weak logins only when ``weak_login`` (one SQL query)."""
    from iotscope.c2._known import INFECTED, WITH_WEAK_LOGIN, counted, known_hosts

    return set(counted(known_hosts(store, extra), WITH_WEAK_LOGIN if weak_login else INFECTED))
