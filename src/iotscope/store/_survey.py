"""Survey progress in the store: a batch of findings and the progress that marks their hosts
done, written in one transaction (so ``survey run --resume`` after a kill -9 neither probes
a finished host again nor loses or duplicates a finding)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from iotscope.errors import StoreError
from iotscope.records import Finding
from iotscope.store import _schema as s
from iotscope.store._store import Store, finding_rows

__all__ = ["SurveyProgress", "load_survey_progress", "save_survey_batch"]


@dataclass(frozen=True)
class SurveyProgress:
    """Where one survey run stands (see ``_schema.survey_progress``)."""

    survey_id: str
    seed: int
    size: int
    watermark: int = 0
    done: tuple[int, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)


def _ranges(positions: Sequence[int]) -> list[list[int]]:
    """Sorted positions as inclusive ``[first, last]`` runs (hosts finish in runs)."""
    runs: list[list[int]] = []
    for p in sorted(positions):
        if runs and p == runs[-1][1] + 1:
            runs[-1][1] = p
        else:
            runs.append([p, p])
    return runs


def _positions(runs: Iterable[Sequence[int] | int]) -> tuple[int, ...]:
    """Positions from runs (a bare position, as early rows kept, is a run of one)."""
    out: list[int] = []
    for run in runs:
        first, last = (run, run) if isinstance(run, int) else (run[0], run[-1])
        out.extend(range(int(first), int(last) + 1))
    return tuple(out)


def _upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    keys = [c.name for c in table.primary_key.columns]
    for i in range(0, len(rows), 2000):
        stmt = insert(table)
        update = {c.name: stmt.excluded[c.name] for c in table.c if c.name not in keys}
        conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=update),
                     list(rows[i : i + 2000]))  # fmt: skip


def save_survey_batch(store: Store, findings: Sequence[Finding], progress: SurveyProgress) -> int:
    """Upsert ``findings`` and ``progress`` in one transaction; the number of findings."""
    row = {
        "survey_id": progress.survey_id, "seed": progress.seed, "size": progress.size,
        "watermark": progress.watermark, "done": _ranges(progress.done),
        "counts": dict(progress.counts), "config": progress.config, "updated": datetime.now(UTC),
    }  # fmt: skip
    try:
        with store.engine.begin() as conn:
            _upsert(conn, s.findings, finding_rows(findings))
            _upsert(conn, s.survey_progress, [row])
    except SQLAlchemyError as exc:
        raise StoreError("write failed", table="survey_progress", reason=str(exc)[:300]) from exc
    return len(findings)


def load_survey_progress(store: Store, survey_id: str) -> SurveyProgress | None:
    """The recorded progress of ``survey_id``, or None when the store has none."""
    table = s.survey_progress
    try:
        with store.engine.connect() as conn:
            row = conn.execute(select(table).where(table.c.survey_id == survey_id)).first()
    except SQLAlchemyError as exc:
        raise StoreError("read failed", table=table.name, reason=str(exc)[:300]) from exc
    if row is None:
        return None
    r = row._mapping
    return SurveyProgress(
        survey_id=r["survey_id"], seed=int(r["seed"]), size=int(r["size"]),
        watermark=int(r["watermark"]), done=_positions(r["done"]),
        counts={str(k): int(v) for k, v in r["counts"].items()}, config=dict(r["config"]),
    )  # fmt: skip
