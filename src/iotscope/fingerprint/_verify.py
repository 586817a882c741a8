"""``fingerprint verify``: replay every ``<example>`` of a Recog file, as Recog's verifier does.

Per fingerprint (rapid7/recog ``lib/recog/fingerprint.rb``, ``verify_params`` and
``verify_tests``): the regex and flags must be valid; a ``pos="0"`` param needs a value and a
``pos="N"`` param must not have one; every example must match, and each of its attributes
(other than ``_encoding`` and ``_filename``) must equal the result's value of that name; each
param taken from a capture group must be checked by at least one example. A fingerprint
without examples is a warning, not a failure. ``_filename`` examples are read from the
``<file without .xml>/`` folder (Recog's place) or the XML file's own folder, never outside.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from iotscope.errors import ConfigError
from iotscope.fingerprint._recog import Example, Fingerprint, bytes_to_text, load_recog


class VerifyFailure(NamedTuple):
    fingerprint: str
    example: str
    expected: str
    got: str


@dataclass
class VerifyReport:
    """What ``verify_file`` found: examples checked, failures, warnings."""

    path: str
    fingerprints: int = 0
    checked: int = 0
    failures: list[VerifyFailure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def verify_file(path: Path) -> VerifyReport:
    """Verify a Recog XML file; raises ConfigError when it cannot be read as Recog XML."""
    db = load_recog(path)
    report = VerifyReport(str(path), fingerprints=len(db.fingerprints))
    errors = {f"{e.data.get('fingerprint')}": e for e in db.errors}
    for index, fp in enumerate(db.fingerprints, start=1):
        error = errors.get(f"#{index} {fp.label}")
        if error is not None:
            reason = str(error.data.get("reason"))
            report.failures.append(VerifyFailure(fp.label, "", "a valid regex", reason))
            continue
        _verify_params(fp, report)
        _verify_examples(fp, db.example_dirs, report)
    return report


def _verify_params(fp: Fingerprint, report: VerifyReport) -> None:
    for p in fp.params:
        if p.pos > 0 and p.value:
            report.failures.append(
                VerifyFailure(fp.label, "", f"{p.name}: no value with pos={p.pos}", p.value)
            )
        elif p.pos == 0 and not p.value:
            report.failures.append(VerifyFailure(fp.label, "", f"{p.name}: a value", "none"))


def _verify_examples(fp: Fingerprint, dirs: tuple[Path, ...], report: VerifyReport) -> None:
    if not fp.examples:
        report.warnings.append(f"{fp.label!r} has no examples")
        return
    for example in fp.examples:
        report.checked += 1
        failure = _check_example(fp, example, dirs)
        if failure is not None:
            report.failures.append(failure)
    tested = {k for ex in fp.examples for k in ex.attrs}
    for p in fp.params:
        if p.pos > 0 and not p.value and p.name not in tested:
            report.failures.append(
                VerifyFailure(fp.label, "", f"an example checking {p.name} (capture group)", "none")
            )


def _check_example(
    fp: Fingerprint, example: Example, dirs: tuple[Path, ...]
) -> VerifyFailure | None:
    try:
        text = example.text if example.text is not None else _read_example(example, dirs)
    except ConfigError as exc:
        return VerifyFailure(
            fp.label, example.attrs.get("_filename", ""), "a readable file", str(exc)
        )
    shown = _show(text)
    result = fp.match(text)
    if result is None:
        return VerifyFailure(fp.label, shown, "a match", "no match")
    wrong = {k: v for k, v in example.expected.items() if result.get(k) != v}
    if not wrong:
        return None
    got = {k: result.get(k) for k in wrong}
    return VerifyFailure(fp.label, shown, _pairs(wrong), _pairs(got))


def _read_example(example: Example, dirs: tuple[Path, ...]) -> str:
    name = example.attrs["_filename"]
    for base in dirs:
        candidate = (base / name).resolve()
        if not candidate.is_relative_to(base.resolve()):
            raise ConfigError("example file outside the database folder", filename=name)
        if candidate.is_file():
            return bytes_to_text(candidate.read_bytes())
    raise ConfigError("example file not found", filename=name)


def _pairs(values: Mapping[str, str | None]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items())


def _show(text: str, limit: int = 120) -> str:
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."
