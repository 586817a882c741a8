"""Fixtures for notices: a store on SQLite (and PostgreSQL where marked), an ISP profile,
contacts and a few findings with pinned times."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from iotscope.notify import Contact, Device, DeviceFinding, NoticeProfile
from iotscope.store import Store, open_store
from iotscope.tenancy import Principal
from tests.conftest import FIXED_NOW

ISP = "Sakura Hikari Net"
DOMAIN = "sakura-hikari.example.jp"
ISP_P = Principal("isp", ISP)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        st = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    else:
        st = open_store(request.getfixturevalue("pg_schema_url"))
    yield st
    st.engine.dispose()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield st
    st.engine.dispose()


@pytest.fixture
def profile() -> NoticeProfile:
    return NoticeProfile(
        isp=ISP,
        domain=DOMAIN,
        name_ja="さくら光ネット",
        name_en="Sakura Hikari Net",
        manages_cpe=True,
    )


def contacts() -> list[Contact]:
    return [
        Contact(
            isp=ISP,
            subscriber_id="sub-1",
            name="山田 太郎",
            email="taro@mail.example",
            postal="〒100-0001 東京都千代田区千代田1-1",
            language="ja",
        ),
        Contact(
            isp=ISP, subscriber_id="sub-2", name="Jane Doe", phone="09012345678", language="en"
        ),
        Contact(
            isp=ISP,
            subscriber_id="sub-3",
            name="佐藤 花子",
            postal="〒530-0001 大阪府大阪市北区梅田1-1",
        ),
    ]


SUBSCRIBERS = {
    "127.77.0.10": "sub-1",
    "127.77.0.11": "sub-2",
    "127.77.0.12": "sub-3",
    "127.77.0.13": "sub-4",
}


def findings() -> list[DeviceFinding]:
    cam = Device(
        vendor="Hikvision",
        product="DS-2CD Network Camera",
        model="DS-2CD2032-I",
        version="V5.2.0 build 140721",
        device_type="IP Camera",
    )
    router = Device(
        vendor="Huawei",
        product="HG532 Home Gateway",
        model="HG532e",
        version="V100R001C01B016",
        device_type="Router",
    )
    ip = ipaddress.ip_address
    return [
        DeviceFinding(
            ip=ip("127.77.0.10"),
            port=23,
            time=FIXED_NOW,
            kind="weak_login",
            service="telnet",
            device=cam,
            protocol="telnet",
        ),
        DeviceFinding(
            ip=ip("127.77.0.10"),
            port=80,
            time=FIXED_NOW + timedelta(seconds=5),
            kind="vulnerable",
            service="http",
            device=cam,
            cves=("CVE-2017-7921",),
            evidence="verified",
            kev=True,
        ),
        DeviceFinding(
            ip=ip("127.77.0.11"),
            port=37215,
            time=FIXED_NOW,
            kind="infected",
            device=router,
            detail="telescope: Mirai-style scanning",
        ),
        DeviceFinding(
            ip=ip("127.77.0.12"),
            port=23,
            time=FIXED_NOW,
            kind="weak_login",
            service="telnet",
            device=router,
            protocol="telnet",
        ),
        DeviceFinding(ip=ip("127.77.0.13"), port=23, time=FIXED_NOW, kind="weak_login"),
        DeviceFinding(ip=ip("127.77.0.99"), port=23, time=FIXED_NOW, kind="weak_login"),
    ]
