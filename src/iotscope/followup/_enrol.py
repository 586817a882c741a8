"""Enrol an ISP's notices (``iotscope.notify``'s table) as follow-up subjects.

A notice already enrolled keeps its subject (ids are stable). The holdout is drawn before
notices are created (``split_holdout``), so notices enrolled here are the notified arm; a
trial's holdout subjects are saved by whoever drew it (the lab trial, or an ISP's own run).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from iotscope.followup._model import Subject, subject_id
from iotscope.followup._store import save_subjects, subjects
from iotscope.store import Store
from iotscope.tenancy import Principal


class NoticeLike(Protocol):
    """The fields of ``iotscope.notify.Notice`` that enrolment reads."""

    @property
    def id(self) -> str: ...
    @property
    def isp(self) -> str: ...
    @property
    def subscriber_id(self) -> str: ...
    @property
    def ip(self) -> Any: ...
    @property
    def port(self) -> int: ...
    @property
    def finding_time(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def variant(self) -> str: ...
    @property
    def created(self) -> datetime: ...
    @property
    def sent(self) -> datetime | None: ...
    @property
    def device(self) -> Any: ...


def subject_of(notice: NoticeLike, trial: str) -> Subject:
    ip = str(notice.ip)
    dev = notice.device
    identity = {"vendor": dev.vendor, "product": dev.product, "model": dev.model}
    return Subject(
        id=subject_id(trial, notice.isp, ip, notice.port, notice.finding_time), trial=trial,
        isp=notice.isp, subscriber_id=notice.subscriber_id, ip=ip, port=notice.port,
        finding_time=notice.finding_time, kind=notice.kind, identity=identity, arm="notified",
        assigned=notice.created, notice_id=notice.id, channel=notice.channel,
        variant=notice.variant, notified=notice.sent or notice.created,
    )  # fmt: skip


def enrol_notices(
    store: Store, principal: Principal, isp: str, trial: str, notices: Sequence[NoticeLike]
) -> int:
    """Enrol the notices not yet in ``trial``; how many were new."""
    known = {x.notice_id for x in subjects(store, principal, isp, trial)}
    new = [subject_of(n, trial) for n in notices if n.id not in known]
    save_subjects(store, principal, new)
    return len(new)
