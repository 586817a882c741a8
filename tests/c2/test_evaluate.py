"""Detection against the lab's ground truth: the issue's goals on generated traffic, ingested
through the flows part (Zeek and NetFlow/IPFIX) as at an ISP."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iotscope.c2 import evaluate, fp_by_family, load_truth, oracle_infected, truth_c2
from iotscope.c2.cli import app
from iotscope.errors import ConfigError
from iotscope.flows import ingest_files
from iotscope.lab.traffic import generate
from iotscope.records import Finding, Login, Survey
from iotscope.store import open_store
from iotscope.telescope import Options
from iotscope.telescope import ingest as telescope_ingest

SEED, DAYS, SCALE = 11, 1.0, 0.5
#: Families whose bots scan (the telescope lists them): their C2s must be found. Emotet's bots
#: do not scan, so an Emotet C2 has bot evidence only once it migrates (hand-over).
SCANNING_FAMILIES = ("mirai", "gafgyt-irc", "http-bot")


def _telescope(darknet: Path) -> set[str]:
    result = telescope_ingest(darknet, Options(sensor="test"))
    return {str(s.src) for s in result.sightings if s.classification in ("mirai", "iot")}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict, set[str]]:
    """Generated traffic ingested the way an ISP would: Zeek conn.log at some sites, NetFlow
    v9/IPFIX captures at the others; the infected list from the telescope over the darknet
    capture. Returns truth.json, the Parquet root, the truth and the telescope's list."""
    out = tmp_path_factory.mktemp("lab")
    summary = generate(out / "traffic", seed=SEED, days=DAYS, scale=SCALE)
    root = out / "flows"
    for i, site in enumerate(sorted(summary.flows)):
        fmt, name = ("zeek", "conn.log") if i % 2 == 0 else ("netflow-pcap", "netflow.pcap")
        report = ingest_files(
            [out / "traffic" / "sites" / site / name], fmt=fmt, site=site, root=root
        )
        assert report.flows == summary.flows[site]
    listed = _telescope(out / "traffic" / "darknet.pcap")
    return out / "traffic" / "truth.json", root, summary.truth, listed


def _family(truth: dict, key: tuple[str, int, str]) -> str:
    return next(c["family"] for c in truth["c2"] if (c["ip"], c["port"], c["site"]) == key)


def test_goals_with_telescope_infected(lab: tuple[Path, Path, dict, set[str]]) -> None:
    _, root, truth, listed = lab
    assert listed and listed != oracle_infected(truth)  # the telescope's view, not the truth's
    result = evaluate(root, truth, infected=listed)
    assert result.precision >= 0.95, result.fp
    scanning = [k for k in result.tp + result.fn if _family(truth, k) in SCANNING_FAMILIES]
    found = [k for k in result.tp if _family(truth, k) in SCANNING_FAMILIES]
    assert len(found) >= 0.9 * len(scanning), result.fn
    assert len(result.ttd_s) >= 10
    assert result.ttd_max_s is not None and result.ttd_max_s <= 600


def test_precision_without_any_infected_list(lab: tuple[Path, Path, dict, set[str]]) -> None:
    _, root, truth, _ = lab
    result = evaluate(root, truth, step_ms=0)
    assert result.precision >= 0.95 and result.tp, result.fp


def test_one_site(lab: tuple[Path, Path, dict, set[str]]) -> None:
    _, root, truth, listed = lab
    site = truth["sites"][0]
    result = evaluate(root, truth, infected=listed, site=site, step_ms=0)
    assert {k[2] for k in result.tp + result.fp + result.fn} == {site}
    assert len(result.tp) + len(result.fn) == len(truth_c2(truth, site))


def test_evaluate_command_takes_the_list_from_the_telescope(
    lab: tuple[Path, Path, dict, set[str]], tmp_path: Path
) -> None:
    truth_path, root, _, listed = lab
    out = tmp_path / "eval.json"
    args = ["evaluate", "--truth", str(truth_path), "--flows", str(root), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--oracle"])
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text())
    assert figures["infected_from"] == "telescope" and figures["infected_listed"] == len(listed)
    assert figures["precision"] >= 0.95 and figures["ttd_max_s"] <= 600
    assert figures["oracle_truth_infected"]["recall"] >= figures["recall"]
    assert "ORACLE" in result.output
    none = CliRunner().invoke(app, [*args, "--infected-from", "none"])
    assert none.exit_code == 0 and json.loads(out.read_text())["infected_listed"] == 0
    bad = CliRunner().invoke(app, [*args, "--infected-from", "truth"])
    assert bad.exit_code != 0


def test_evaluate_counts_survey_logins_only_when_asked(
    lab: tuple[Path, Path, dict, set[str]], tmp_path: Path
) -> None:
    truth_path, root, truth, listed = lab
    t = datetime(2026, 11, 1, tzinfo=UTC)
    store = open_store()
    store.save_survey(Survey(id="s1", started=t, scope=("100.64.0.0/16",)))
    login = Login(protocol="telnet", outcome="accepted")
    store.save_findings([Finding(ip="100.64.250.1", port=23, service="telnet", time=t,
                                 survey_id="s1", login=login)])  # fmt: skip
    out = tmp_path / "eval.json"
    args = ["evaluate", "--truth", str(truth_path), "--flows", str(root), "--out", str(out)]
    for extra, want in (([], len(listed)), (["--weak-login-as-infected"], len(listed) + 1)):
        result = CliRunner().invoke(app, [*args, "--site", truth["sites"][0], *extra])
        assert result.exit_code == 0, result.output
        assert json.loads(out.read_text())["infected_listed"] == want


def test_bad_truth_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "truth.json"
    for text in ("{", '{"c2": [{"ip": "1.2.3.4"}], "scanners": []}', "[]"):
        path.write_text(text)
        with pytest.raises(ConfigError):
            load_truth(path)
    result = CliRunner().invoke(app, ["evaluate", "--truth", str(tmp_path / "missing.json")])
    assert result.exit_code != 0


def test_false_positives_by_benign_family() -> None:
    truth = {"benign": [{"ip": "198.18.1.1", "port": 443, "site": "a", "family": "cdn-rotate"}]}
    fp = [("198.18.1.1", 443, "a"), ("198.18.1.1", 443, "b"), ("198.18.2.2", 80, "a")]
    assert fp_by_family(fp, truth) == {"cdn-rotate": 1, "other": 2}
    truth["benign_ranges"] = [{"family": "long-tail", "first": "198.18.2.0", "last": "198.18.2.9"}]
    assert fp_by_family(fp, truth) == {"cdn-rotate": 1, "other": 1, "long-tail": 1}
