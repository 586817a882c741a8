"""Interrupted surveys: kill -9 at random points then ``--resume`` gives the same findings
as an uninterrupted run, probing no finished host again; SIGTERM flushes the last batch.

The survey runs as a real ``iotscope survey run`` subprocess against a lab in this process.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from iotscope.records import Finding
from iotscope.store import load_survey_progress, open_store
from tests.survey.conftest import lab_in_thread

pytestmark = [pytest.mark.network, pytest.mark.slow]
PORTS = "22,23,80,1883,8080"


def _command(scope: Path, survey_id: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "iotscope", "survey", "run", "--scope", str(scope),
            "--survey-id", survey_id, "--seed", "11", "--ports", PORTS, "--timeout", "0.5",
            "--login-delay", "0", "--concurrency", "64", *extra]  # fmt: skip


def _resume(survey_id: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "iotscope", "survey", "run", "--resume", survey_id, *extra]


def _keys(findings: list[Finding]) -> set[tuple[str, int, str, str]]:
    return {(str(f.ip), f.port, f.transport, f.service) for f in findings}


def _times(survey_id: str) -> dict[tuple[str, int, str, str], object]:
    return {(str(f.ip), f.port, f.transport, f.service): f.time
            for f in open_store().findings(survey_id)}  # fmt: skip


def _run(cmd: list[str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)  # fmt: skip


def test_kill_9_then_resume_matches_an_uninterrupted_run(lab_network: str, tmp_path: Path) -> None:
    scope = tmp_path / "scope.txt"
    scope.write_text(f"{lab_network}\n")
    rng = random.Random(20261130)
    with lab_in_thread(30, 21, lab_network):
        t0 = time.monotonic()
        base = _run(_command(scope, "base", "--rate", "0"))
        took = time.monotonic() - t0
        assert base.returncode == 0, base.stderr
        before: dict[tuple[str, int, str, str], object] = {}
        cmd = _command(scope, "cut", "--rate", "0", "--flush-every", "0.2")
        for attempt in range(3):  # killed three times at random points, then resumed
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    stdin=subprocess.DEVNULL)  # fmt: skip
            time.sleep(rng.uniform(0.3, 0.8) * took)
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            before.update(_times("cut"))
            cmd = _resume("cut", "--flush-every", "0.2")
            if attempt == 0:
                assert load_survey_progress(open_store(), "cut") is not None, "nothing recorded"
        final = _run(cmd)
        assert final.returncode == 0, final.stderr
    store = open_store()
    base_findings, cut_findings = store.findings("base"), store.findings("cut")
    assert _keys(cut_findings) == _keys(base_findings)  # nothing missing, nothing extra
    assert len(cut_findings) == len(_keys(cut_findings))  # no duplicate
    after = _times("cut")
    assert before, "the kills came after some findings were stored"
    for key, when in before.items():  # a finished host is never probed again
        assert after[key] == when, key
    [survey] = [s for s in store.surveys() if s.id == "cut"]
    assert survey.finished is not None
    assert survey.counts["hosts"] == survey.counts["scope_size"] == 256  # each host once
    assert survey.counts["hosts_up"] == next(
        s for s in store.surveys() if s.id == "base").counts["hosts_up"]  # fmt: skip
    again = _run(_resume("cut"))
    assert again.returncode == 0 and "already finished" in again.stderr


def test_sigterm_flushes_the_last_batch(lab_network: str, tmp_path: Path) -> None:
    scope, out = tmp_path / "scope.txt", tmp_path / "out.jsonl"
    scope.write_text(f"{lab_network}\n")
    with lab_in_thread(30, 22, lab_network):
        cmd = _command(scope, "term", "--rate", "40", "--flush-every", "3600", "--out", str(out))
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True)  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not out.exists() or out.stat().st_size == 0):
            time.sleep(0.1)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "--resume term" in stderr
    written = {(r["ip"], r["port"], r["transport"], r["service"])
               for r in map(json.loads, out.read_text().splitlines())}  # fmt: skip
    store = open_store()
    assert written and _keys(store.findings("term")) == written  # the last batch was written
    progress = load_survey_progress(store, "term")
    assert progress is not None and 0 < progress.counts["hosts"] < 256
    [survey] = store.surveys()
    assert survey.finished is None and survey.counts["hosts"] == progress.counts["hosts"]
    assert os.environ["IOTSCOPE_HOME"]  # the subprocess wrote to this test's store
