"""Helpers shared by the lab's tests: the small test catalog and a world built from it."""

from __future__ import annotations

from pathlib import Path

from iotscope.lab import Catalog, DeviceRuntime, ServiceRuntime, World, load_catalog_files

DATA = Path(__file__).parent / "data"
CATALOG_FILE = DATA / "catalog.toml"


def test_catalog() -> Catalog:
    return load_catalog_files([CATALOG_FILE])


test_catalog.__test__ = False  # type: ignore[attr-defined]  # not a test function


def find(
    world: World, profile: str, service: str, **want: object
) -> tuple[DeviceRuntime, ServiceRuntime]:
    """The first device of ``profile`` whose ``service`` matches ``want`` (pair attributes)."""
    for dev in world.devices:
        if dev.device.profile != profile:
            continue
        for svc in dev.services:
            if svc.spec.service != service:
                continue
            if all(getattr(svc.pair, k, None) == v for k, v in want.items()):
                return dev, svc
    raise LookupError(f"no {profile}/{service} with {want} in this world")
