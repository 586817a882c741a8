"""Helpers for tests that run real capture tools (tcpdump, tshark) on loopback."""

from __future__ import annotations

import select
import subprocess

import pytest


def wait_ready(proc: subprocess.Popen[bytes], marker: bytes) -> None:
    """Block until the capture tool says it is listening (bounded)."""
    assert proc.stderr is not None
    seen = b""
    while marker not in seen:
        ready, _, _ = select.select([proc.stderr], [], [], 10)
        if not ready:
            proc.kill()
            pytest.fail(f"capture tool never became ready: {seen!r}")
        chunk = proc.stderr.read1(4096)  # type: ignore[attr-defined]
        if not chunk:
            exited(seen)
        seen += chunk


def exited(stderr: bytes) -> None:
    """The tool quit before listening: skip when capturing is not permitted here, else fail."""
    if b"ermission" in stderr or b"not permitted" in stderr:
        pytest.skip(f"capturing on lo is not permitted here: {stderr[-200:]!r}")
    pytest.fail(f"capture tool exited: {stderr!r}")
