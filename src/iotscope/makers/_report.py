"""One manufacturer's report, as data (the web view and the PDF both render it): its models
and firmware with devices seen, weak, vulnerable (CVEs, KEV), infected, the trend over survey
rounds, its share of all infections, and its JC-STAR registrations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from iotscope.errors import ConfigError
from iotscope.makers._frame import Devices, Round, subset
from iotscope.makers._jcstar import Label
from iotscope.makers._names import vendor_key
from iotscope.makers._tally import CveCount, ParetoRow, Tally, cve_counts, outdated, pareto, tally


@dataclass(frozen=True, slots=True)
class Firmware:
    tally: Tally  # key: (model, version, cpe)
    outdated: bool | None  # "firmware not latest" (None: the release table cannot say)


@dataclass(frozen=True, slots=True)
class VendorReport:
    vendor: str
    round: Round | None
    totals: Tally
    share_of_all: float | None  # its infected devices / every vendor's, in the round
    models: tuple[Tally, ...]
    firmware: tuple[Firmware, ...]
    cves: tuple[CveCount, ...]
    pareto: tuple[ParetoRow, ...]  # over models
    trend: tuple[tuple[Round, Tally], ...]
    labels: tuple[Label, ...]


def pick_round(dev: Devices, survey_id: str | None) -> int | None:
    """The round ``survey_id`` (None or "latest": the newest); unknown: :class:`ConfigError`."""
    if survey_id in (None, "", "latest"):
        return dev.latest()
    for i, r in enumerate(dev.rounds):
        if r.survey_id == survey_id:
            return i
    raise ConfigError("no such survey round", round=survey_id)


def _total(dev: Devices, rounds: Sequence[int]) -> Tally:
    found = tally(dev, ("vendor_key",), rounds)
    return Tally(
        ("",),
        *(
            sum(getattr(t, f) for t in found)
            for f in ("devices", "weak", "vulnerable", "kev", "infected")
        ),
    )


def vendor_report(
    dev: Devices, vendor: str, labels: Sequence[Label], survey_id: str | None = None
) -> VendorReport:
    """The report of ``vendor`` over ``dev`` (already restricted to what the caller may see)."""
    key = vendor_key(vendor)
    mine = subset(dev, np.asarray(dev.vendor_key == key, dtype=bool))
    r = pick_round(dev, survey_id)
    rounds = [] if r is None else [r]
    totals = _total(mine, rounds)
    models = tuple(tally(mine, ("model",), rounds))
    firmware = tuple(
        Firmware(t, outdated(t.key[2], t.key[1]))
        for t in tally(mine, ("model", "version", "cpe"), rounds)
    )
    everyone = dev.all_infected[r] if r is not None else 0
    trend = tuple((dev.rounds[t_r], _total(mine, [t_r])) for t_r in range(len(dev.rounds)))
    return VendorReport(
        vendor=str(mine.vendor[0]) if len(mine) else vendor,
        round=None if r is None else dev.rounds[r],
        totals=totals,
        share_of_all=round(totals.infected / everyone, 4) if everyone else None,
        models=models,
        firmware=firmware,
        cves=tuple(cve_counts(mine, rounds)),
        pareto=tuple(
            pareto([t.key[0] or "(unknown)" for t in models], [t.infected for t in models])
        ),
        trend=trend,
        labels=tuple(x for x in labels if x.product[0] == key),
    )
