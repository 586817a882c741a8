"""The tile-grid cartogram of Japan: every prefecture once, no two on one tile, neighbours
near each other, names and codes resolve."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from iotscope.centre._prefectures import GRID, TILES, prefecture_code


def test_every_prefecture_on_its_own_tile() -> None:
    assert [t.code for t in TILES] == list(range(1, 48))
    assert len({(t.col, t.row) for t in TILES}) == 47


def test_neighbours_are_near() -> None:
    def near(a: int, b: int) -> bool:
        (ca, ra), (cb, rb) = GRID[a], GRID[b]
        return max(abs(ca - cb), abs(ra - rb)) <= 1

    # Tokyo-Kanagawa, Tokyo-Saitama, Osaka-Kyoto, Osaka-Hyogo, Aomori-Iwate, Fukuoka-Saga
    for a, b in ((13, 14), (13, 11), (27, 26), (27, 28), (2, 3), (40, 41)):
        assert near(a, b), (a, b)


def test_codes_and_names_resolve() -> None:
    assert prefecture_code(13) == 13
    assert prefecture_code("01") == 1
    assert prefecture_code("JP-47") == 47
    assert prefecture_code("Tokyo") == prefecture_code("東京都") == prefecture_code("東京") == 13
    assert prefecture_code("hokkaido") == prefecture_code("北海道") == 1
    assert prefecture_code("48") is None and prefecture_code("Atlantis") is None


@given(st.one_of(st.text(), st.integers()))
def test_anything_else_is_none_or_a_code(value: object) -> None:
    code = prefecture_code(value)
    assert code is None or 1 <= code <= 47


def test_unicode_digits_are_not_codes() -> None:
    assert prefecture_code("²") is None and prefecture_code("١٣") is None
