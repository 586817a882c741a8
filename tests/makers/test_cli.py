"""`iotscope makers jcstar import` and `iotscope makers report` end to end on the default store."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from iotscope.cli import app
from iotscope.notify._letter import japanese_font
from iotscope.store import open_store
from tests.makers.world import build


def test_import_reports_bad_lines_then_report_writes_a_pdf(tmp_path: Path) -> None:
    build(open_store())
    registry = tmp_path / "jcstar.csv"
    registry.write_text(
        "registration,vendor,model,level,registered,expires\n"
        "JC-1,Acme,A-100,★2,2025-05-21,2027-05-20\n"
        "JC-2,Acme,X9,★9,2025-05-21,\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    r = runner.invoke(app, ["makers", "jcstar", "import", str(registry)])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert (report["inserted"], report["bad"]) == (1, 1)
    assert report["bad_lines"][0]["line"] == 3 and "level" in report["bad_lines"][0]["reason"]
    if japanese_font() is None:
        return
    out = tmp_path / "acme.pdf"
    r = runner.invoke(
        app, ["makers", "report", "--vendor", "ACME", "--out", str(out), "--lang", "en"]
    )
    assert r.exit_code == 0, r.output
    assert out.read_bytes().startswith(b"%PDF-")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
        assert "JC-1" in text and "A-100" in text and "Beta" not in text
