"""The imported JC-STAR registry in the store: upsert by registration number, read back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from iotscope.errors import ConfigError, StoreError
from iotscope.makers._jcstar import BadLine, Label, decode, label_row, parse_registry
from iotscope.store import Store
from iotscope.store._schema_makers import jcstar_labels as T


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What one import did: data lines read, rows added and updated, lines not imported."""

    source: str
    lines: int
    inserted: int
    updated: int
    bad: tuple[BadLine, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "lines": self.lines,
            "inserted": self.inserted,
            "updated": self.updated,
            "bad": len(self.bad),
            "bad_lines": [{"line": b.line, "reason": b.reason, "text": b.text} for b in self.bad],
        }


def save_labels(
    store: Store, labels: Sequence[Label], source: str, now: datetime | None = None
) -> tuple[int, int]:
    """Upsert ``labels`` (by registration number) in one transaction: (inserted, updated)."""
    rows = [label_row(x, source, now or datetime.now(UTC)) for x in labels]
    if not rows:
        return 0, 0
    insert = postgresql.insert if store.engine.dialect.name == "postgresql" else sqlite.insert
    try:
        with store.engine.begin() as conn:
            have = set(conn.execute(select(T.c.registration)).scalars())
            for i in range(0, len(rows), 2000):
                stmt = insert(T)
                update = {c.name: stmt.excluded[c.name] for c in T.c if c.name != "registration"}
                conn.execute(
                    stmt.on_conflict_do_update(index_elements=["registration"], set_=update),
                    rows[i : i + 2000],
                )
    except SQLAlchemyError as exc:
        raise StoreError("write failed", table=T.name, reason=str(exc)[:300]) from exc
    updated = sum(r["registration"] in have for r in rows)
    return len(rows) - updated, updated


def import_registry(store: Store, path: Path) -> ImportReport:
    """Read the registry file at ``path`` and upsert its good lines (``_jcstar`` docstring)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError("cannot read registry file", file=str(path), reason=str(exc)) from exc
    parsed = parse_registry(decode(data))
    inserted, updated = save_labels(store, parsed.labels, str(path))
    return ImportReport(str(path), parsed.lines, inserted, updated, parsed.bad)


def _date(x: object) -> date | None:
    if x is None or isinstance(x, date):
        return x
    return date.fromisoformat(str(x)[:10])


def load_labels(store: Store) -> list[Label]:
    """Every registration in the store, by registration number."""
    try:
        with store.engine.connect() as conn:
            rows = list(conn.execute(select(T).order_by(T.c.registration)).mappings())
    except SQLAlchemyError as exc:
        raise StoreError("read failed", table=T.name, reason=str(exc)[:300]) from exc
    return [
        Label(
            r["registration"],
            r["vendor"],
            r["model"],
            int(r["level"]),
            _date(r["registered"]) or date.min,
            _date(r["expires"]),
            r["brand"],
        )
        for r in rows
    ]
