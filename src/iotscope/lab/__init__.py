"""The lab: an emulated Internet of IoT devices on loopback, with its ground truth.

- ``build_world(devices, seed, network, catalog)``: the pure, seeded world (``World.manifest``
  is the ground truth; ``World.devices`` what the servers need).
- ``start_lab(world)``: bind every device in this asyncio loop; ``RunningLab`` (async context
  manager) exposes ``.manifest`` and ``close()``.
- ``write_manifest`` / ``read_manifest``: the manifest file (atomic JSON).
- ``LabProcess``: ``iotscope lab up`` in a subprocess, for tests and benchmarks.
- ``score_survey(manifest, findings)``: survey findings against the ground truth.

What a prober meets (details in each emulator's docstring): telnet per RFC 854 with the
profile's offers, banner and prompts; three wrong passwords close the connection and
``lockout_after`` failures lock the service ("... try again later", then hang-up on every
connection for 5 minutes). HTTP Basic/Digest answer 401 until the right pair; form logins POST
``username``/``password`` to ``/login`` and get ``302`` + ``Set-Cookie`` on success, the login
page again (200, "Invalid username or password") on failure. MQTT CONNACK 0/4/5, RTSP 401/200,
SSH via asyncssh with the vendor's exact version string. ``https`` logs in with the ``http``
credential (one manifest entry, protocol ``http``).
"""

from iotscope.lab._catalog import Catalog, Profile, ServiceProfile, load_catalog, load_catalog_files
from iotscope.lab._manifest import read_manifest, write_manifest
from iotscope.lab._process import LabProcess
from iotscope.lab._score import SurveyScore, score_survey
from iotscope.lab._server import RunningLab, start_lab
from iotscope.lab._world import HOSTILE_KINDS, DeviceRuntime, ServiceRuntime, World, build_world

__all__ = [
    "HOSTILE_KINDS",
    "Catalog",
    "DeviceRuntime",
    "LabProcess",
    "Profile",
    "RunningLab",
    "ServiceProfile",
    "ServiceRuntime",
    "SurveyScore",
    "World",
    "build_world",
    "load_catalog",
    "load_catalog_files",
    "read_manifest",
    "score_survey",
    "start_lab",
    "write_manifest",
]
