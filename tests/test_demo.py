"""`iotscope demo --once`: the main job runs end to end on the embedded default and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from iotscope.store import open_store
from iotscope.store.centre import list_c2_contacts, list_region_counts
from iotscope.tenancy import CENTRE


@pytest.mark.network
@pytest.mark.slow
def test_demo_once_end_to_end(iotscope_home: Path) -> None:
    env = {**os.environ, "IOTSCOPE_HOME": str(iotscope_home), "COLUMNS": "120"}
    proc = subprocess.run(
        [sys.executable, "-m", "iotscope", "demo", "--once", "--devices", "60", "--seed", "3"],
        env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stderr
    for heading in (
        "1. the lab",
        "2. the survey",
        "3. vulnerable firmware",
        "4. the botnet",
        "5. who must act",
        "6. the ISP's view",
        "7. follow-up",
        "8. C2s shared",
        "9. sharing",
        "10. action at the source",
        "11. what each ISP sends the centre",
        "12. the analysis centre",
    ):
        assert heading in out
    # the centre is served twice: the live run's store, and the month world at a second URL
    assert "the live lab (this run): open http://127.0.0.1:" in out
    assert "a month of history at national scale" in out
    assert "what the live run found, as the live centre shows it" in out
    assert "survey vs. ground truth" in out and "C2 detection per ISP" in out
    store = open_store(f"sqlite:///{iotscope_home / 'iotscope.db'}")
    try:
        assert len(store.surveys()) == 1
        assert store.findings(), "the survey stored no findings"
        assert store.sightings(), "the telescope stored no sightings"
        assert store.c2_candidates(), "no C2 candidate was stored"
        assert list_c2_contacts(store, CENTRE), "no ISP sent the centre its C2 contacts"
        assert list_region_counts(store, CENTRE), "no ISP sent the centre its region counts"
    finally:
        store.engine.dispose()
