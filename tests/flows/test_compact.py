"""The collector's buckets: parts rolled per time bucket, compacted once closed, kill-safe."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from iotscope.errors import ConfigError
from iotscope.flows import flows_table, read_flows
from iotscope.flows._compact import bucket_files, compact_bucket, compact_site
from iotscope.flows._rolling import BucketWriter, RollOptions
from iotscope.flows._staging import sweep_stale

T0 = 1_793_491_200_000  # 2026-11-01T00:00Z
MIN = 60_000
DAY_DIR = "site=isp-a/day=2026-11-01"


def _flows(first: int, n: int, start_ms: int, step_ms: int = 1000) -> pa.Table:
    """``n`` flows with unique source ports from ``first``, starting every ``step_ms``."""
    return flows_table(
        start_ms=[start_ms + i * step_ms for i in range(n)],
        end_ms=[start_ms + i * step_ms + 500 for i in range(n)],
        src=pa.array(["192.0.2.1"] * n),
        dst=pa.array(["203.0.113.9"] * n),
        sport=list(range(first, first + n)),
        dport=[23] * n,
        proto=pa.array(["tcp"] * n),
        packets=[2] * n,
        octets=[120] * n,
        tcp_flags=[0x12] * n,
        exporter="192.0.2.254",
        site="isp-a",
    )


def _ports(root: Path) -> Counter[int]:
    return Counter(read_flows(root, site="isp-a")["sport"].to_pylist())


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_batches_roll_per_bucket_and_closed_buckets_compact(tmp_path: Path) -> None:
    writer = BucketWriter(tmp_path, RollOptions(bucket_minutes=60, grace_s=60, idle_s=3600))
    sent: Counter[int] = Counter()
    for k in range(8):  # 8 batches of 15 minutes: hours 00 and 01
        batch = _flows(k * 100, 90, T0 + k * 15 * MIN, step_ms=10_000)
        writer.write(batch)
        sent.update(batch["sport"].to_pylist())
        writer.compact()
    folder = tmp_path / DAY_DIR
    names = _names(folder)
    assert "bucket-0000.parquet" in names  # watermark passed 01:00 + grace
    assert not any(n.startswith("part-c0000-") for n in names)
    assert any(n.startswith("part-c0100-") for n in names)  # still open
    assert _ports(tmp_path) == sent
    writer.compact(final=True)
    assert _names(folder) == ["bucket-0000.parquet", "bucket-0100.parquet"]
    assert _ports(tmp_path) == sent


def test_late_flows_merge_into_the_compacted_bucket(tmp_path: Path) -> None:
    writer = BucketWriter(tmp_path, RollOptions(bucket_minutes=5))
    writer.write(_flows(0, 50, T0))
    writer.compact(final=True)
    writer.write(_flows(1000, 20, T0 + 2 * MIN))  # late: same 00:00-00:05 bucket
    assert sorted(bucket_files(tmp_path / DAY_DIR)) == ["0000"]
    writer.compact(final=True)
    parts, target = bucket_files(tmp_path / DAY_DIR)["0000"]
    assert not parts and target is not None
    assert sum(_ports(tmp_path).values()) == 70


def test_bucket_size_must_divide_a_day() -> None:
    with pytest.raises(ConfigError):
        RollOptions(bucket_minutes=7)


_KILLER = """
import os, signal, sys
from pathlib import Path
from iotscope.flows._compact import compact_bucket

def hook(step):
    if step == sys.argv[2]:
        os.kill(os.getpid(), signal.SIGKILL)

compact_bucket(Path(sys.argv[1]), "0000", step=hook)
"""


@pytest.mark.parametrize("step", ["written", "renamed", "unlinked-0", "unlinked-2"])
def test_kill_at_any_step_loses_nothing_and_recovery_duplicates_nothing(
    tmp_path: Path, step: str
) -> None:
    writer = BucketWriter(tmp_path, RollOptions(bucket_minutes=60))
    sent: Counter[int] = Counter()
    for k in range(3):  # a compacted bucket first, then more parts for it
        batch = _flows(k * 100, 40, T0 + k * MIN)
        writer.write(batch)
        sent.update(batch["sport"].to_pylist())
    writer.compact(final=True)
    for k in range(3, 7):
        batch = _flows(k * 100, 40, T0 + k * MIN)
        writer.write(batch)
        sent.update(batch["sport"].to_pylist())
    folder = tmp_path / DAY_DIR
    proc = subprocess.run(
        [sys.executable, "-c", _KILLER, str(folder), step], capture_output=True, timeout=60
    )
    assert proc.returncode == -9, proc.stderr
    seen = _ports(tmp_path)
    assert all(seen[p] >= 1 for p in sent)  # nothing lost, even before recovery
    assert set(seen) == set(sent)
    if step == "written":
        assert seen == sent  # the merge is still hidden
    compact_site(tmp_path, "isp-a")  # the next pass (or `flows compact`) recovers
    sweep_stale(tmp_path, "isp-a")
    assert _ports(tmp_path) == sent
    assert _names(folder) == ["bucket-0000.parquet"]


def test_recovery_alone_removes_parts_already_merged(tmp_path: Path) -> None:
    writer = BucketWriter(tmp_path, RollOptions(bucket_minutes=60))
    for k in range(3):
        writer.write(_flows(k * 100, 10, T0 + k * MIN))
    folder = tmp_path / DAY_DIR
    parts, _ = bucket_files(folder)["0000"]
    saved = {p.name: p.read_bytes() for p in parts}
    compact_bucket(folder, "0000")
    for name, data in saved.items():  # as if the unlinks never happened
        (folder / name).write_bytes(data)
    assert sum(_ports(tmp_path).values()) == 60  # duplicates visible until the next pass
    done = compact_bucket(folder, "0000")
    assert done.recovered_parts == 3 and done.merged_parts == 0
    assert sum(_ports(tmp_path).values()) == 30


def test_stale_temporary_files_of_dead_writers_are_swept(tmp_path: Path) -> None:
    folder = tmp_path / DAY_DIR
    folder.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    pid = int(dead.stdout)
    (folder / f".compact-{pid}-0000.tmp").write_bytes(b"x")
    (folder / f".stage-{pid}-1-1.tmp").write_bytes(b"x")
    (folder / f".stage-{os.getpid()}-1-1.tmp").write_bytes(b"mine")
    assert sweep_stale(tmp_path) == 2
    assert _names(folder) == [f".stage-{os.getpid()}-1-1.tmp"]
