"""Japan's 47 prefectures: JIS X 0401 code, names, region, population and the capital's place.

Shared reference data for region counts and the centre's map. Populations are the 2020 census
in millions (rounded; Statistics Bureau of Japan); coordinates are the prefectural capital's
(approximate, 0.01 degree), enough to place a marker, not a boundary.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Prefecture:
    code: str  # "01" .. "47"
    name: str
    name_ja: str
    region: str
    population_m: float
    lat: float
    lon: float


_ROWS = (
    ("01", "Hokkaido", "北海道", "Hokkaido", 5.22, 43.06, 141.35),
    ("02", "Aomori", "青森県", "Tohoku", 1.24, 40.82, 140.74),
    ("03", "Iwate", "岩手県", "Tohoku", 1.21, 39.70, 141.15),
    ("04", "Miyagi", "宮城県", "Tohoku", 2.30, 38.27, 140.87),
    ("05", "Akita", "秋田県", "Tohoku", 0.96, 39.72, 140.10),
    ("06", "Yamagata", "山形県", "Tohoku", 1.07, 38.24, 140.36),
    ("07", "Fukushima", "福島県", "Tohoku", 1.83, 37.75, 140.47),
    ("08", "Ibaraki", "茨城県", "Kanto", 2.87, 36.34, 140.45),
    ("09", "Tochigi", "栃木県", "Kanto", 1.93, 36.57, 139.88),
    ("10", "Gunma", "群馬県", "Kanto", 1.94, 36.39, 139.06),
    ("11", "Saitama", "埼玉県", "Kanto", 7.34, 35.86, 139.65),
    ("12", "Chiba", "千葉県", "Kanto", 6.28, 35.61, 140.12),
    ("13", "Tokyo", "東京都", "Kanto", 14.05, 35.69, 139.69),
    ("14", "Kanagawa", "神奈川県", "Kanto", 9.24, 35.45, 139.64),
    ("15", "Niigata", "新潟県", "Chubu", 2.20, 37.90, 139.02),
    ("16", "Toyama", "富山県", "Chubu", 1.03, 36.70, 137.21),
    ("17", "Ishikawa", "石川県", "Chubu", 1.13, 36.59, 136.63),
    ("18", "Fukui", "福井県", "Chubu", 0.77, 36.07, 136.22),
    ("19", "Yamanashi", "山梨県", "Chubu", 0.81, 35.66, 138.57),
    ("20", "Nagano", "長野県", "Chubu", 2.05, 36.65, 138.18),
    ("21", "Gifu", "岐阜県", "Chubu", 1.98, 35.39, 136.72),
    ("22", "Shizuoka", "静岡県", "Chubu", 3.63, 34.98, 138.38),
    ("23", "Aichi", "愛知県", "Chubu", 7.54, 35.18, 136.91),
    ("24", "Mie", "三重県", "Kinki", 1.77, 34.73, 136.51),
    ("25", "Shiga", "滋賀県", "Kinki", 1.41, 35.00, 135.87),
    ("26", "Kyoto", "京都府", "Kinki", 2.58, 35.02, 135.76),
    ("27", "Osaka", "大阪府", "Kinki", 8.84, 34.69, 135.52),
    ("28", "Hyogo", "兵庫県", "Kinki", 5.47, 34.69, 135.18),
    ("29", "Nara", "奈良県", "Kinki", 1.32, 34.69, 135.83),
    ("30", "Wakayama", "和歌山県", "Kinki", 0.92, 34.23, 135.17),
    ("31", "Tottori", "鳥取県", "Chugoku", 0.55, 35.50, 134.24),
    ("32", "Shimane", "島根県", "Chugoku", 0.67, 35.47, 133.05),
    ("33", "Okayama", "岡山県", "Chugoku", 1.89, 34.66, 133.93),
    ("34", "Hiroshima", "広島県", "Chugoku", 2.80, 34.40, 132.46),
    ("35", "Yamaguchi", "山口県", "Chugoku", 1.34, 34.19, 131.47),
    ("36", "Tokushima", "徳島県", "Shikoku", 0.72, 34.07, 134.56),
    ("37", "Kagawa", "香川県", "Shikoku", 0.95, 34.34, 134.04),
    ("38", "Ehime", "愛媛県", "Shikoku", 1.33, 33.84, 132.77),
    ("39", "Kochi", "高知県", "Shikoku", 0.69, 33.56, 133.53),
    ("40", "Fukuoka", "福岡県", "Kyushu", 5.14, 33.61, 130.42),
    ("41", "Saga", "佐賀県", "Kyushu", 0.81, 33.25, 130.30),
    ("42", "Nagasaki", "長崎県", "Kyushu", 1.31, 32.74, 129.87),
    ("43", "Kumamoto", "熊本県", "Kyushu", 1.74, 32.79, 130.74),
    ("44", "Oita", "大分県", "Kyushu", 1.12, 33.24, 131.61),
    ("45", "Miyazaki", "宮崎県", "Kyushu", 1.07, 31.91, 131.42),
    ("46", "Kagoshima", "鹿児島県", "Kyushu", 1.59, 31.56, 130.56),
    ("47", "Okinawa", "沖縄県", "Okinawa", 1.47, 26.21, 127.68),
)

PREFECTURES: tuple[Prefecture, ...] = tuple(Prefecture(*r) for r in _ROWS)
"""The 47 prefectures in JIS X 0401 order."""

BY_CODE: dict[str, Prefecture] = {p.code: p for p in PREFECTURES}


def find(value: object) -> Prefecture | None:
    """The prefecture ``value`` names: a JIS code (int or digits, ``13``, ``"01"``, ``"JP-13"``)
    or a name in English or Japanese (``"Tokyo"``, ``"東京都"``, ``"東京"``); None when none."""
    text = str(value).strip()
    if text.upper().startswith("JP-"):
        text = text[3:]
    if text.isascii() and text.isdigit():
        return BY_CODE.get(f"{int(text):02d}")
    for p in PREFECTURES:
        short = p.name_ja[:-1] if p.name_ja[-1] in "都府県" else p.name_ja
        if text.lower() == p.name.lower() or text in (p.name_ja, short):
            return p
    return None


REGIONS: tuple[str, ...] = tuple(dict.fromkeys(p.region for p in PREFECTURES))
"""Hokkaido, Tohoku, Kanto, Chubu, Kinki, Chugoku, Shikoku, Kyushu, Okinawa."""
