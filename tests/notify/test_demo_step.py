"""The demo's notice step over a store holding survey findings (no lab processes needed)."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest

from iotscope.demo._notify import notify_step
from iotscope.records import Isp, LabManifest
from iotscope.store import Store
from tests.conftest import FIXED_NOW
from tests.notify.test_cli import _findings


@pytest.mark.network
def test_notify_step_fills_a_local_mailbox(store: Store, tmp_path: Path) -> None:
    store.save_findings(_findings())
    isps = (
        Isp(name="Kumo Broadband", asn=64600, prefixes=("127.77.0.0/16",)),
        Isp(name="Tsubame Cable", asn=64601, prefixes=("127.88.0.0/16",)),
    )
    manifest = LabManifest(
        seed=1, network="127.64.0.0/10", created=FIXED_NOW, devices=(), isps=isps
    )
    result = notify_step(store, manifest, tmp_path, seed=3)
    assert result is not None and result.isp == "Kumo Broadband" and result.notices == 2
    assert sum(result.report.sent.values()) == 2 and not result.report.failed
    assert len(mailbox.Maildir(result.maildir)) == result.report.sent["email"]
    assert result.protections >= 1
    again = notify_step(store, manifest, tmp_path, seed=3)
    assert again is not None and again.notices == 0  # nothing noticed twice
