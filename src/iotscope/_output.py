"""Output at the CLI edge: JSON Lines to a file or a pipe, rich tables on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.table import Table

from iotscope.records import Record

console = Console(stderr=True)


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


@contextmanager
def jsonl_sink(out: Path | None) -> Iterator[IO[str] | None]:
    """Yield where JSON Lines go: ``out``, else stdout when it is not a terminal, else None."""
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as fh:
            yield fh
    elif not stdout_is_terminal():
        yield sys.stdout
    else:
        yield None


def write_jsonl(sink: IO[str], records: Iterable[Record]) -> int:
    n = 0
    for rec in records:
        sink.write(rec.to_json())
        sink.write("\n")
        n += 1
    sink.flush()
    return n


def table(title: str, columns: list[str], rows: Iterable[Iterable[object]]) -> Table:
    t = Table(title=title)
    for col in columns:
        t.add_column(col)
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    return t
