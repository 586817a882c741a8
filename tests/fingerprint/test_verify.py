"""``verify_file``: Recog's verifier semantics on real and handwritten databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from iotscope.errors import ConfigError
from iotscope.fingerprint import verify_file
from iotscope.fingerprint._engine import RULES_DIR

SHIPPED = sorted(RULES_DIR.glob("*.xml"))


def write(tmp_path: Path, body: str, name: str = "db.xml") -> Path:
    path = tmp_path / name
    path.write_text(f'<fingerprints matches="telnet.banner">{body}</fingerprints>')
    return path


def test_recog_telnet_banners_verify_cleanly(shared_data: Path) -> None:
    report = verify_file(shared_data / "recog" / "telnet_banners.xml")
    assert report.failures == []
    assert report.ok
    assert report.fingerprints == 149
    assert report.checked == 179


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_rules_verify_cleanly(path: Path) -> None:
    report = verify_file(path)
    assert report.failures == []
    assert report.checked > 0


def test_passing_examples_and_counts(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """<fingerprint pattern="^Acme v([\\d.]+)$"><description>Acme</description>
        <example os.version="1.2">Acme v1.2</example>
        <example _encoding="base64" os.version="3">QWNtZSB2Mw==</example>
        <example matched="Acme" service.protocol="">Acme v9</example>
        <param pos="1" name="os.version"/></fingerprint>""",
    )
    report = verify_file(path)
    assert (report.ok, report.checked, report.fingerprints) == (True, 3, 1)


def test_wrong_value_and_no_match_are_failures(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """<fingerprint pattern="^Acme v([\\d.]+)$"><description>Acme</description>
        <example os.version="1.3">Acme v1.2</example>
        <example>Other</example>
        <param pos="1" name="os.version"/></fingerprint>""",
    )
    report = verify_file(path)
    assert not report.ok
    wrong, nomatch = report.failures
    assert (wrong.fingerprint, wrong.expected, wrong.got) == (
        "Acme",
        "os.version='1.3'",
        "os.version='1.2'",
    )
    assert "Acme v1.2" in wrong.example
    assert nomatch.got == "no match"


def test_param_rules_and_untested_capture_group(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """<fingerprint pattern="^B (\\d)"><example>B 1</example>
        <param pos="1" name="hw.version"/>
        <param pos="1" name="hw.model" value="oops"/>
        <param pos="0" name="hw.vendor"/></fingerprint>""",
    )
    expected = {
        "hw.model: no value with pos=1",
        "hw.vendor: a value",
        "an example checking hw.version (capture group)",
    }
    assert {f.expected for f in verify_file(path).failures} == expected


def test_bad_regex_is_reported_not_raised(tmp_path: Path) -> None:
    path = write(tmp_path, '<fingerprint pattern="(x"><example>x</example></fingerprint>')
    (failure,) = verify_file(path).failures
    assert failure.expected == "a valid regex"


def test_no_examples_is_a_warning(tmp_path: Path) -> None:
    report = verify_file(write(tmp_path, '<fingerprint pattern="x"/>'))
    assert report.ok
    assert len(report.warnings) == 1


def test_filename_examples_from_recog_folder_and_xml_folder(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "one.txt").write_bytes(b"Acme v1\r\n")
    (tmp_path / "two.txt").write_bytes(b"Acme v2")
    (tmp_path.parent / "outside.txt").write_bytes(b"Acme v3")
    path = write(
        tmp_path,
        """<fingerprint pattern="^Acme v(\\d)"><param pos="1" name="v"/>
        <example _filename="one.txt" v="1"/><example _filename="two.txt" v="2"/>
        <example _filename="../outside.txt" v="3"/><example _filename="none.txt"/>
        </fingerprint>""",
    )
    report = verify_file(path)
    assert report.checked == 4
    assert [f.expected for f in report.failures] == ["a readable file", "a readable file"]


def test_unreadable_or_non_recog_file_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        verify_file(tmp_path / "missing.xml")
    (tmp_path / "x.xml").write_text("not xml")
    with pytest.raises(ConfigError):
        verify_file(tmp_path / "x.xml")
