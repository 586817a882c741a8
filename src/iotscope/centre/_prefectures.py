"""The 47 prefectures of Japan as a tile-grid cartogram: one square per prefecture, placed
roughly where it lies (column west -> east, row north -> south), so small prefectures stay as
visible as large ones. Codes, names and regions come from :mod:`iotscope.prefectures` (JIS X
0401); the positions are ours, drawn from each prefecture's neighbours on a map of Japan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from iotscope import prefectures as jp

#: JIS code -> (column, row) of its tile
GRID: dict[int, tuple[int, int]] = {
    1: (12, 0), 2: (12, 1), 3: (12, 2), 4: (12, 3), 5: (11, 2), 6: (11, 3), 7: (12, 4),
    8: (11, 5), 9: (11, 4), 10: (10, 4), 11: (10, 5), 12: (11, 6), 13: (10, 6), 14: (10, 7),
    15: (10, 3), 16: (8, 4), 17: (7, 4), 18: (7, 5), 19: (9, 5), 20: (9, 4), 21: (8, 5),
    22: (9, 6), 23: (8, 6), 24: (7, 7), 25: (7, 6), 26: (6, 5), 27: (5, 6), 28: (5, 5),
    29: (6, 6), 30: (6, 7), 31: (4, 5), 32: (3, 5), 33: (4, 6), 34: (3, 6), 35: (2, 6),
    36: (4, 8), 37: (4, 7), 38: (3, 7), 39: (3, 8), 40: (1, 6), 41: (0, 6), 42: (0, 7),
    43: (1, 7), 44: (2, 7), 45: (2, 8), 46: (1, 8), 47: (0, 10),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Tile:
    code: int  # JIS X 0401
    name_en: str
    name_ja: str
    col: int
    row: int

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "en": self.name_en, "ja": self.name_ja,
                "col": self.col, "row": self.row}  # fmt: skip


TILES: tuple[Tile, ...] = tuple(
    Tile(int(p.code), p.name, p.name_ja, *GRID[int(p.code)]) for p in jp.PREFECTURES
)
"""All 47, in JIS code order."""


def prefecture_code(value: object) -> int | None:
    """The JIS code of the prefecture ``value`` names (:func:`iotscope.prefectures.find`)."""
    found = jp.find(value)
    return None if found is None else int(found.code)
