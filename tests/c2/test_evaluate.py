"""Detection against the lab's ground truth: the issue's goals on generated traffic, ingested
through the flows part (Zeek and NetFlow/IPFIX) as at an ISP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iotscope.c2 import evaluate, load_truth, truth_c2, truth_infected
from iotscope.c2.cli import app
from iotscope.errors import ConfigError
from iotscope.flows import ingest_files
from iotscope.lab.traffic import generate

SEED, DAYS, SCALE = 11, 1.0, 0.5


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """Generated traffic ingested the way an ISP would: Zeek conn.log at some sites, NetFlow
    v9/IPFIX captures at the others; returns truth.json, the Parquet root and the truth."""
    out = tmp_path_factory.mktemp("lab")
    summary = generate(out / "traffic", seed=SEED, days=DAYS, scale=SCALE)
    root = out / "flows"
    for i, site in enumerate(sorted(summary.flows)):
        fmt, name = ("zeek", "conn.log") if i % 2 == 0 else ("netflow-pcap", "netflow.pcap")
        report = ingest_files(
            [out / "traffic" / "sites" / site / name], fmt=fmt, site=site, root=root
        )
        assert report.flows == summary.flows[site]
    return out / "traffic" / "truth.json", root, summary.truth


def test_goals_with_telescope_infected(lab: tuple[Path, Path, dict]) -> None:
    _, root, truth = lab
    result = evaluate(root, truth, infected=truth_infected(truth))
    assert result.precision >= 0.95, result.fp
    assert result.recall >= 0.9, result.fn
    assert len(result.ttd_s) >= 10 and not result.missed
    assert result.ttd_max_s is not None and result.ttd_max_s <= 600


def test_goals_without_any_infected_list(lab: tuple[Path, Path, dict]) -> None:
    _, root, truth = lab
    result = evaluate(root, truth)
    assert result.precision >= 0.95 and result.recall >= 0.9
    assert result.ttd_max_s is not None and result.ttd_max_s <= 600


def test_one_site(lab: tuple[Path, Path, dict]) -> None:
    _, root, truth = lab
    site = truth["sites"][0]
    result = evaluate(root, truth, infected=truth_infected(truth), site=site)
    assert {k[2] for k in result.tp + result.fp + result.fn} == {site}
    assert len(result.tp) + len(result.fn) == len(truth_c2(truth, site))


def test_evaluate_command(lab: tuple[Path, Path, dict], tmp_path: Path) -> None:
    truth_path, root, _ = lab
    out = tmp_path / "eval.json"
    result = CliRunner().invoke(
        app, ["evaluate", "--truth", str(truth_path), "--flows", str(root), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text())
    assert figures["precision"] >= 0.95 and figures["recall"] >= 0.9
    assert figures["ttd_max_s"] <= 600


def test_bad_truth_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "truth.json"
    for text in ("{", '{"c2": [{"ip": "1.2.3.4"}], "scanners": []}', "[]"):
        path.write_text(text)
        with pytest.raises(ConfigError):
            load_truth(path)
    result = CliRunner().invoke(app, ["evaluate", "--truth", str(tmp_path / "missing.json")])
    assert result.exit_code != 0


@pytest.fixture(scope="module")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A small lab world (a /22 of few devices, scale 0.3, one day): vendor clouds are polled
    by only a handful of clients per site, infected ones among them, so popularity cannot
    suppress them; ingested from the NetFlow/IPFIX captures as an ISP would."""
    out = tmp_path_factory.mktemp("small")
    summary = generate(out / "traffic", seed=7, days=1.0, scale=0.3, network="127.78.0.0/22")
    root = out / "flows"
    for site in sorted(summary.flows):
        path = out / "traffic" / "sites" / site / "netflow.pcap"
        ingest_files([path], fmt="netflow-pcap", site=site, root=root)
    return root, summary.truth


@pytest.mark.parametrize("with_list", [True, False])
def test_goals_in_a_small_world(small_world: tuple[Path, dict], with_list: bool) -> None:
    root, truth = small_world
    infected = truth_infected(truth) if with_list else set()
    result = evaluate(root, truth, infected=infected)
    assert result.precision >= 0.95, result.fp
    assert result.recall >= 0.9, result.fn
    assert len(result.ttd_s) >= 10 and not result.missed
    assert result.ttd_max_s is not None and result.ttd_max_s <= 600
