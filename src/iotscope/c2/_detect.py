"""C2 candidates from the detection rows, their reasons, and the known-infected inputs."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from iotscope.c2._engines import Row, Window, run_duckdb, run_spark
from iotscope.c2._sql import Params
from iotscope.errors import ConfigError
from iotscope.records import C2Candidate

Engine = Literal["duckdb", "spark"]
INFECTED_OUTCOMES = ("accepted", "no_auth")


def _ms(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def reasons(row: Row) -> tuple[str, ...]:
    """Human-readable evidence for one detection row (same order as the score's terms)."""
    out: list[str] = []
    clients = row["clients"]
    if row["periodic_clients"]:
        beat = round(float(row["beat_ms"] or 0) / 1000)
        out.append(
            f"periodic sessions from {row['periodic_clients']}/{clients} clients (every ~{beat} s)"
        )
    if row["infected_clients"]:
        out.append(
            f"contacted by {row['infected_clients']}/{clients} known-infected hosts "
            f"(base rate among the site's other periodic hosts {float(row['base_rate']):.0%})"
        )
    if row["handover_clients"]:
        out.append(
            f"{row['handover_clients']} clients moved here from a periodic endpoint "
            "that went silent (C2 migration)"
        )
    if row["multi"]:
        out.append("shared by several bots (fan-in)")
    if row["c2_port"]:
        out.append(f"C2-typical port {row['port']}/{row['proto']}")
    if row["steady_clients"]:
        out.append(f"small steady payloads ({row['steady_clients']}/{clients} clients)")
    if row["persistent_clients"]:
        out.append(f"persistent for 30+ min ({row['persistent_clients']} clients)")
    if row["is_new"]:
        out.append("new endpoint in this window")
    if row["failed_share"] > 0.05:
        out.append(f"penalty: {row['failed_share']:.0%} failed attempts (scan target?)")
    if row["flood_clients"]:
        out.append(f"penalty: flooded by {row['flood_clients']} clients (DDoS victim?)")
    if row["popular"]:
        out.append("penalty: popular service (large benign fan-in)")
    if row["stable_clients"] and not row["c2_port"]:
        out.append(
            f"penalty: polled by {row['stable_clients']}/{clients} clients from the window's "
            "start to its end without change (long-lived service?)"
        )
    return tuple(out)


def candidate(row: Row) -> C2Candidate:
    """One detection row as the canonical record (score rounded to 4 places)."""
    return C2Candidate(
        ip=ipaddress.ip_address(row["ip"]),
        port=int(row["port"]),
        proto=row["proto"],
        score=round(float(row["score"]), 4),
        clients=int(row["clients"]),
        infected_clients=int(row["infected_clients"]),
        first_seen=_ms(row["first_ms"]),
        last_seen=_ms(row["last_ms"]),
        reasons=reasons(row),
        site=row["site"],
    )


def detect(
    source: Path | pa.Table,
    *,
    infected: Iterable[str] = (),
    window: Window | None = None,
    params: Params | None = None,
    engine: Engine = "duckdb",
    spark: Any = None,
) -> list[C2Candidate]:
    """Score the endpoints of ``source``'s flows; return candidates at or above the threshold."""
    window = window or Window()
    if engine == "duckdb":
        rows = run_duckdb(source, infected, window, params)
    elif engine == "spark":
        rows = run_spark(source, infected, window, params, spark=spark)
    else:
        raise ConfigError("engine must be duckdb or spark", engine=engine)
    return [candidate(r) for r in rows]


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


def known_infected(store: Any, extra: Path | None = None) -> set[str]:
    """Telescope sightings (mirai, iot) plus survey findings whose login was accepted/no_auth."""
    ips = set(store.infected_ips())
    ips |= {str(f.ip) for f in store.findings() if f.login.outcome in INFECTED_OUTCOMES}
    if extra is not None:
        ips |= infected_from_file(extra)
    return ips
