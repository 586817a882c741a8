"""``share agreement`` names the C2 lineages only the asking ISP sees (issue 9, item 6), from the
centre's lineages over every ISP's C2 contacts (a small month world of the lab)."""

from __future__ import annotations

from typer.testing import CliRunner

from iotscope.centre._botnets import analysis, exclusive_lineages
from iotscope.cli import app
from iotscope.lab.month import generate, load
from iotscope.store import open_store
from iotscope.tenancy import Principal


def test_agreement_lists_the_lineages_only_this_isp_sees() -> None:
    store = open_store()
    load(store, generate(6, devices=300, isps=3, days=30))
    isps = analysis(store).isps
    counts = {i: len(exclusive_lineages(store, Principal("isp", i), i)) for i in isps}
    isp = max(counts, key=lambda i: counts[i])  # the ISP with most lineages of its own
    expected = exclusive_lineages(store, Principal("isp", isp), isp)
    assert expected, "the world should hold a lineage only one ISP sees"
    site = isp.lower().replace(" ", "-")
    r = CliRunner().invoke(app, ["share", "agreement", "--isp", site, "--detections"])
    assert r.exit_code == 0, r.output
    line = " ".join(r.output.split())
    assert f"lineages only {isp} sees:" in line
    for lineage in expected:
        assert lineage.id in line
    others = [x.id for i in isps if i != isp for x in exclusive_lineages(
        store, Principal("isp", i), i)]  # fmt: skip
    assert not any(o in line for o in others)
