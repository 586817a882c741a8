"""An ISP's region counts for the centre: weak and vulnerable devices from the survey rounds on
its network, infected ones from its own C2 contacts, all in the prefecture it names."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from iotscope.errors import ConfigError
from iotscope.isp._regions import prefecture, record_regions, region_counts
from iotscope.store import Store
from iotscope.store.centre import (
    C2Contact,
    RegionCount,
    list_region_counts,
    save_c2_contacts,
)
from iotscope.tenancy import CENTRE, Principal
from tests.makers.world import R1, R2, open_world

ALPHA, BETA = Principal("isp", "alpha"), Principal("isp", "beta")
DAY = date(2026, 10, 3)


def _contact(isp: str, bot: str, c2: str, day: date = DAY) -> C2Contact:
    t = datetime(day.year, day.month, day.day, 1, tzinfo=UTC)
    return C2Contact(isp, c2, 23, None, bot, day, t, t + timedelta(minutes=5), 2)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    for store in open_world(tmp_path_factory):
        # alpha: 3 bots on DAY (one talks to two C2s), 1 the day after; beta: 2 bots on DAY
        save_c2_contacts(store, ALPHA, [
            _contact("alpha", "b1", "192.0.2.1"), _contact("alpha", "b1", "192.0.2.2"),
            _contact("alpha", "b2", "192.0.2.1"), _contact("alpha", "b3", "192.0.2.2"),
            _contact("alpha", "b1", "192.0.2.1", DAY + timedelta(days=1)),
        ])  # fmt: skip
        save_c2_contacts(store, BETA, [_contact("beta", "x", "192.0.2.1"),
                                       _contact("beta", "y", "192.0.2.1")])  # fmt: skip
        yield store


def _by(rows: list[RegionCount]) -> dict[tuple[date, str], int]:
    return {(r.day, r.kind): r.count for r in rows}


def test_counts_come_from_the_survey_and_the_isps_own_contacts(world: Store) -> None:
    rows = region_counts(world, ALPHA, "alpha", "Tokyo")
    assert {(r.pref_code, r.prefecture) for r in rows} == {("13", "Tokyo")}
    # world.py: alpha holds 10.0.0.0/24 and 10.0.2.0/24: A-100 20 weak of 40, X9 2 of 10,
    # 10 unidentified all weak; 10.0.0.1-40 carry CVEs in both rounds
    assert _by(rows) == {
        (R1.date(), "weak"): 32, (R2.date(), "weak"): 32,
        (R1.date(), "vulnerable"): 40, (R2.date(), "vulnerable"): 40,
        (DAY, "infected"): 3, (DAY + timedelta(days=1), "infected"): 1,
    }  # fmt: skip


def test_a_measured_zero_is_shared_and_other_isps_bots_never_count(world: Store) -> None:
    rows = _by(region_counts(world, BETA, "beta", "27"))
    # beta: B200 10 weak of 30; its CVEs came from round 1's findings only
    assert rows[(R1.date(), "vulnerable")] == 30 and rows[(R2.date(), "vulnerable")] == 0
    assert rows[(R1.date(), "weak")] == 10
    assert rows[(DAY, "infected")] == 2 and (DAY + timedelta(days=1), "infected") not in rows


def test_only_the_isp_itself_or_the_centre_derives_and_records(world: Store) -> None:
    with pytest.raises(ConfigError):
        region_counts(world, BETA, "alpha", "Tokyo")
    assert record_regions(world, CENTRE, "alpha", "13") == 6
    assert record_regions(world, ALPHA, "alpha", "13") == 6  # an upsert: nothing doubles
    stored = list_region_counts(world, ALPHA)
    assert len(stored) == 6 and {r.isp for r in stored} == {"alpha"}
    with pytest.raises(ConfigError):
        list_region_counts(world, BETA, isp="alpha")


@pytest.mark.parametrize(("name", "code"), [("13", "13"), ("1", "01"), ("tokyo", "13"),
                                            (" Okinawa ", "47")])  # fmt: skip
def test_prefecture_by_code_or_name(name: str, code: str) -> None:
    assert prefecture(name).code == code


@pytest.mark.parametrize("name", ["0", "48", "Atlantis", ""])
def test_unknown_prefecture_is_a_clear_error(name: str) -> None:
    with pytest.raises(ConfigError, match="not a prefecture"):
        prefecture(name)


def test_isp_regions_command_records_the_counts(iotscope_home: Path) -> None:
    from typer.testing import CliRunner

    from iotscope.cli import app
    from iotscope.store import open_store
    from tests.makers.world import build

    store = open_store()
    build(store)
    ok = CliRunner().invoke(app, ["isp", "regions", "--isp", "beta", "--prefecture", "Osaka"])
    assert ok.exit_code == 0, ok.output
    assert "recorded 4 region count rows for beta" in ok.output
    assert {(r.prefecture, r.kind) for r in list_region_counts(store, BETA)} == {
        ("Osaka", "weak"), ("Osaka", "vulnerable")}  # fmt: skip
    bad = CliRunner().invoke(app, ["isp", "regions", "--isp", "beta", "--prefecture", "Mars"])
    assert isinstance(bad.exception, ConfigError)  # cli.main renders it with exit code 2
    store.engine.dispose()
