"""Bad input rows: each named by file and line, and the one rule for what happens to them.

Every importer here (routes CSV, MRT, registry, lease log) first validates the whole file,
collecting a :class:`BadRow` per bad line; then either nothing is written and one error names
the file and the first bad lines (the default), or, when the caller asked to skip bad rows,
only the good rows are written in one transaction and the bad ones are counted and reported.
Either way a file is never half-imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from iotscope.errors import ConfigError

SHOWN = 5


@dataclass(frozen=True, slots=True)
class BadRow:
    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


def check_rows(path: str, bad: Sequence[BadRow], skip_bad: bool) -> None:
    """Raise (nothing imported) when there are bad rows and they may not be skipped."""
    if bad and not skip_bad:
        shown = "; ".join(str(b) for b in bad[:SHOWN])
        more = f" (and {len(bad) - SHOWN} more)" if len(bad) > SHOWN else ""
        raise ConfigError(
            f"{len(bad)} bad row(s) in {path}, nothing imported: {shown}{more}",
            path=path,
            line=bad[0].line,
        )
