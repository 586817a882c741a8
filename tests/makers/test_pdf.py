"""The manufacturer's PDF report: the Japanese font embedded, the numbers in the text."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from iotscope.makers import load_devices, vendor_report
from iotscope.makers._pdf import report_pdf
from iotscope.notify._letter import japanese_font
from iotscope.store import Store
from iotscope.tenancy import Principal
from tests.conftest import require_tool

NOW = datetime(2026, 10, 20, tzinfo=UTC)


@pytest.fixture(scope="module")
def font() -> Path:
    found = japanese_font()
    if found is None:
        pytest.skip("no Japanese font (fonts-ipaexfont-gothic)")
    return found


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_pdf_embeds_the_japanese_font_and_shows_the_numbers(
    world: Store, font: Path, tmp_path: Path, lang: str
) -> None:
    dev = load_devices(world, Principal("manufacturer", "Acme"))
    rep = vendor_report(dev, "Acme", [])
    path = tmp_path / f"report-{lang}.pdf"
    path.write_bytes(report_pdf(rep, lang, NOW, font))  # type: ignore[arg-type]
    fonts = subprocess.run(
        [require_tool("pdffonts"), str(path)], capture_output=True, text=True, check=True
    ).stdout
    row = next(line for line in fonts.splitlines() if "IPAex" in line)
    assert " yes yes " in row  # embedded, subset
    if shutil.which("pdftotext") is None:
        return
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "CVE-2014-8361" in text and "Acme Corp." in text and "Beta" not in text
    assert ("製品の稼働状況" in text) if lang == "ja" else ("Device security" in text)
