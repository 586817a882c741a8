"""End to end over a synthetic darknet capture: counts, classes, chunking, prefixes, store."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from iotscope.errors import ConfigError, ParseError
from iotscope.pcap import iter_frames
from iotscope.records import Sighting
from iotscope.store import open_store
from iotscope.telescope import Options, ingest, ingest_frames
from tests.telescope.scenario import DARKNET, Scenario, standard


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return standard()


@pytest.fixture
def capture(tmp_path: Path, scenario: Scenario) -> Path:
    return scenario.write(tmp_path / "darknet.pcap")


def _by_src(sightings: list[Sighting]) -> dict[str, Sighting]:
    return {str(s.src): s for s in sightings}


def test_every_source_counted_and_classified(capture: Path, scenario: Scenario) -> None:
    result = ingest(capture)
    got = _by_src(result.sightings)
    truth = scenario.truth
    assert set(got) == set(truth.packets) | {"192.0.2.50"}
    for src, kind in truth.kind.items():
        s = got[str(ipaddress.ip_address(src))]
        assert s.classification == kind, src
        assert s.packets == truth.packets[src]
        assert s.targets == len(truth.targets[src])
        assert s.ports == dict(truth.ports[src].most_common(20)) or len(truth.ports[src]) > 20
        share = truth.mirai[src] / truth.syn[src] if truth.syn[src] else 0.0
        assert s.mirai_fingerprint == pytest.approx(share)


def test_mirai_port_ratio_and_fingerprint(capture: Path) -> None:
    bot = _by_src(ingest(capture).sightings)["192.0.2.3"]
    assert bot.mirai_fingerprint == 1.0
    assert bot.ports[23] == 9 * bot.ports[2323]


def test_skipped_packets_are_counted(capture: Path, scenario: Scenario) -> None:
    st = ingest(capture).stats
    assert st.not_ip == scenario.truth.not_ip
    assert st.malformed == scenario.truth.malformed
    assert st.frames == len(scenario.frames)
    assert st.counted + st.not_ip + st.malformed + st.outside_prefix == st.frames
    assert st.capture_errors == 0


def test_telescope_prefix_filters_destinations(capture: Path, scenario: Scenario) -> None:
    result = ingest(capture, Options(prefixes=(DARKNET,)))
    assert "192.0.2.50" not in _by_src(result.sightings)
    assert (
        result.stats.outside_prefix
        == scenario.truth.outside + scenario.truth.packets["2001:db8:beef::1"]
    )
    both = ingest(capture, Options(prefixes=(DARKNET, "2001:db8:dead::/48")))
    assert both.stats.outside_prefix == scenario.truth.outside


def test_research_prefix_option(capture: Path) -> None:
    result = ingest(capture, Options(research_prefixes=("192.0.2.40/30", "2001:db8:beef::/48")))
    got = _by_src(result.sightings)
    assert got["192.0.2.41"].classification == "research"
    assert got["2001:db8:beef::1"].classification == "research"
    assert got["192.0.2.1"].classification == "mirai"


def test_small_batches_give_the_same_answer(capture: Path) -> None:
    whole = ingest(capture)
    chunked = ingest(capture, Options(batch=37))
    assert chunked.sightings == whole.sightings and chunked.stats == whole.stats


def test_top_ports_bounded(tmp_path: Path) -> None:
    sc = Scenario(5)
    for port in range(1, 41):
        for _ in range(port):
            sc.tcp("192.0.2.77", "203.0.113.1", port)
    [s] = ingest(sc.write(tmp_path / "ports.pcap"), Options(top_ports=5)).sightings
    assert s.ports == {40: 40, 39: 39, 38: 38, 37: 37, 36: 36}
    assert s.targets == 1 and s.packets == sum(range(1, 41))


def test_truncated_capture_counts_the_broken_record(capture: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(capture.read_bytes()[:-10])
    assert ingest(cut).stats.capture_errors == 1


def test_bad_inputs_raise_clear_errors(tmp_path: Path, capture: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a capture")
    with pytest.raises(ParseError):
        ingest(bogus)
    with pytest.raises(ConfigError):
        ingest(capture, Options(prefixes=("203.0.113.0/33",)))


def test_empty_capture(tmp_path: Path) -> None:
    result = ingest(Scenario().write(tmp_path / "empty.pcap"))
    assert result.sightings == [] and result.stats.frames == 0


def test_store_round_trip_and_infected_hosts(capture: Path) -> None:
    result = ingest(capture, Options(sensor="nicter-test"))
    store = open_store()
    store.save_sightings(result.sightings)
    store.save_sightings(result.sightings)  # idempotent
    back = sorted(store.sightings("nicter-test"), key=lambda s: str(s.src))
    assert back == sorted(result.sightings, key=lambda s: str(s.src))
    infected = {str(s.src) for s in result.sightings if s.classification in ("mirai", "iot")}
    assert store.infected_ips() == infected and "192.0.2.1" in infected


def test_ingest_frames_accepts_batches(capture: Path) -> None:
    assert ingest_frames(iter_frames(capture, batch=50)).sightings == ingest(capture).sightings
