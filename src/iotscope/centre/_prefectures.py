"""The 47 prefectures of Japan as a tile-grid cartogram: one square per prefecture, placed
roughly where it lies (column west -> east, row north -> south), so small prefectures stay as
visible as large ones. Codes are the JIS X 0401 prefecture codes (1 Hokkaido ... 47 Okinawa).

The positions are ours (drawn from the prefectures' neighbours on a map of Japan); names are
the prefectures' official English and Japanese names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Prefecture:
    code: int  # JIS X 0401
    name_en: str
    name_ja: str
    col: int
    row: int

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "en": self.name_en,
            "ja": self.name_ja,
            "col": self.col,
            "row": self.row,
        }


_TABLE = """
1 Hokkaido 北海道 12 0
2 Aomori 青森県 12 1
3 Iwate 岩手県 12 2
4 Miyagi 宮城県 12 3
5 Akita 秋田県 11 2
6 Yamagata 山形県 11 3
7 Fukushima 福島県 12 4
8 Ibaraki 茨城県 11 5
9 Tochigi 栃木県 11 4
10 Gunma 群馬県 10 4
11 Saitama 埼玉県 10 5
12 Chiba 千葉県 11 6
13 Tokyo 東京都 10 6
14 Kanagawa 神奈川県 10 7
15 Niigata 新潟県 10 3
16 Toyama 富山県 8 4
17 Ishikawa 石川県 7 4
18 Fukui 福井県 7 5
19 Yamanashi 山梨県 9 5
20 Nagano 長野県 9 4
21 Gifu 岐阜県 8 5
22 Shizuoka 静岡県 9 6
23 Aichi 愛知県 8 6
24 Mie 三重県 7 7
25 Shiga 滋賀県 7 6
26 Kyoto 京都府 6 5
27 Osaka 大阪府 5 6
28 Hyogo 兵庫県 5 5
29 Nara 奈良県 6 6
30 Wakayama 和歌山県 6 7
31 Tottori 鳥取県 4 5
32 Shimane 島根県 3 5
33 Okayama 岡山県 4 6
34 Hiroshima 広島県 3 6
35 Yamaguchi 山口県 2 6
36 Tokushima 徳島県 4 8
37 Kagawa 香川県 4 7
38 Ehime 愛媛県 3 7
39 Kochi 高知県 3 8
40 Fukuoka 福岡県 1 6
41 Saga 佐賀県 0 6
42 Nagasaki 長崎県 0 7
43 Kumamoto 熊本県 1 7
44 Oita 大分県 2 7
45 Miyazaki 宮崎県 2 8
46 Kagoshima 鹿児島県 1 8
47 Okinawa 沖縄県 0 10
"""


def _parse(text: str) -> tuple[Prefecture, ...]:
    out = []
    for line in text.strip().splitlines():
        code, en, ja, col, row = line.split()
        out.append(Prefecture(int(code), en, ja, int(col), int(row)))
    return tuple(out)


PREFECTURES: tuple[Prefecture, ...] = _parse(_TABLE)
"""All 47, in JIS code order."""


def prefecture_code(value: object) -> int | None:
    """The JIS code of ``value``: a code (int or digits, ``"13"``, ``"JP-13"``) or a name in
    English or Japanese (``"Tokyo"``, ``"東京都"``, ``"東京"``); None when it names none."""
    text = str(value).strip()
    if text.upper().startswith("JP-"):
        text = text[3:]
    if text.isdigit():
        code = int(text)
        return code if 1 <= code <= len(PREFECTURES) else None
    for p in PREFECTURES:
        short = p.name_ja[:-1] if p.name_ja[-1] in "都府県" else p.name_ja
        if text.lower() in (p.name_en.lower(), f"{p.name_en.lower()}-ken") or text in (
            p.name_ja,
            short,
        ):
            return p.code
    return None
