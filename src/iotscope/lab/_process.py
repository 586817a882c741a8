"""``iotscope lab up`` in a child process, for tests, benchmarks and the demo.

``LabProcess`` starts ``python -m iotscope lab up ...``, waits until the manifest file appears
(the lab's readiness signal) and stops the child (SIGTERM, then SIGKILL) on exit.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

from iotscope.errors import ConfigError
from iotscope.lab._manifest import read_manifest
from iotscope.records import LabManifest


def die_with_parent() -> None:
    """Ask Linux to send SIGTERM when the parent process dies (prctl PR_SET_PDEATHSIG), so
    a killed supervisor or test never leaves a lab holding its addresses."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):  # not Linux: the supervisor's own cleanup still runs
        pass


class LabProcess:
    """Context manager: a running ``lab up`` child and its manifest."""

    def __init__(
        self,
        devices: int,
        seed: int,
        network: str,
        manifest_path: Path,
        timeout: float = 90,
        catalog: Sequence[Path] = (),
    ) -> None:
        self.catalog = tuple(catalog)
        self.devices, self.seed, self.network = devices, seed, network
        self.manifest_path, self.timeout = manifest_path, timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self._manifest: LabManifest | None = None
        self.ready_seconds: float | None = None
        self._log: IO[bytes] | None = None

    @property
    def manifest(self) -> LabManifest:
        if self._manifest is None:
            raise ConfigError("the lab is not running")
        return self._manifest

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise ConfigError("the lab is not running")
        return self.proc.pid

    def command(self) -> list[str]:
        return [sys.executable, "-m", "iotscope", "lab", "up",
                "--devices", str(self.devices), "--seed", str(self.seed),
                "--network", self.network, "--manifest", str(self.manifest_path),
                *(a for path in self.catalog for a in ("--catalog", str(path)))]  # fmt: skip

    def start(self) -> LabManifest:
        self.manifest_path.unlink(missing_ok=True)
        t0 = time.monotonic()
        # a file, not a pipe: a full pipe would stall the lab; closed in stop()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115
        self.proc = subprocess.Popen(
            self.command(),
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env=os.environ.copy(),
            preexec_fn=die_with_parent,  # only a prctl call: safe before exec
        )
        while not self.manifest_path.exists():
            if self.proc.poll() is not None:
                raise ConfigError(
                    "lab up exited early", code=self.proc.returncode, stderr=self.log()[-2000:]
                )
            if time.monotonic() - t0 > self.timeout:
                self.stop()
                raise ConfigError("lab did not come up in time", timeout=self.timeout)
            time.sleep(0.05)
        self.ready_seconds = time.monotonic() - t0
        self._manifest = read_manifest(self.manifest_path)
        return self._manifest

    def log(self) -> str:
        """What the child wrote to stderr so far (its summary, warnings, errors)."""
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> LabProcess:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
