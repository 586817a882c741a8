"""SSH host-key pool and shared server options."""

from __future__ import annotations

from pathlib import Path

from iotscope.lab._ssh import POOL, SshFarm, host_key


def test_pool_is_generated_once_and_reused(tmp_path: Path) -> None:
    first = host_key(tmp_path, "ssh-ed25519", 7)
    again = host_key(tmp_path, "ssh-ed25519", 7 + POOL)
    assert first.export_public_key() == again.export_public_key()
    assert len(list(tmp_path.iterdir())) == 1


def test_options_shared_per_version_and_key(tmp_path: Path) -> None:
    farm = SshFarm(tmp_path)
    a = farm.options("SSH-2.0-dropbear_2019.78", "ssh-ed25519", 1)
    assert farm.options("SSH-2.0-dropbear_2019.78", "ssh-ed25519", 1 + POOL) is a
    assert farm.options("SSH-2.0-OpenSSH_7.6", "ssh-ed25519", 1) is not a
    assert a.version == b"dropbear_2019.78"  # sent as SSH-2.0-dropbear_2019.78
