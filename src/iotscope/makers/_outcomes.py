"""Field outcomes of JC-STAR labelled against unlabelled products (numpy, no I/O).

A device is *labelled* when its (vendor key, model key) is a registered product (the highest
level when a product has several registrations; the dates do not enter: a label describes the
product, and the survey sees devices sold before and after it); *unlabelled* when its vendor
and model are known and not registered; devices with no vendor or model cannot be matched
and are left out of both groups (counted as ``unidentified``).

For each group (labelled, each level ★1..★4, unlabelled) over one survey round: the weak,
vulnerable and infected rates with Wilson 95 % intervals, and labelled minus unlabelled with
Newcombe's hybrid score interval. Devices are counted as independent trials; devices of one
model share firmware and defaults, so the intervals are narrower than the uncertainty about a
*product*: read a difference with few labelled products with care (``products`` says how many).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iotscope.followup import newcombe, wilson
from iotscope.followup._stats import Difference, Proportion
from iotscope.makers._frame import Devices
from iotscope.makers._jcstar import Label
from iotscope.makers._names import model_key

RATES = ("weak", "vulnerable", "infected")
UNIDENTIFIED, UNLABELLED = -1, 0


@dataclass(frozen=True, slots=True)
class Outcome:
    group: str  # labelled | ★1..★4 | unlabelled
    products: int  # distinct (vendor, model) among its devices
    devices: int
    rates: dict[str, Proportion]


@dataclass(frozen=True, slots=True)
class Gap:
    """Labelled minus unlabelled, for one outcome."""

    outcome: str
    difference: Difference


def levels(dev: Devices, labels: Sequence[Label]) -> npt.NDArray[np.int64]:
    """Per device: its product's highest label level, 0 unlabelled, -1 unidentified."""
    best: dict[tuple[str, str], int] = {}
    for x in labels:
        best[x.product] = max(best.get(x.product, 0), x.level)
    mkeys = [model_key(m) for m in dev.model]
    return np.fromiter(
        (
            UNIDENTIFIED if not v or not m else best.get((v, m), UNLABELLED)
            for v, m in zip(dev.vendor_key, mkeys, strict=True)
        ),
        dtype=np.int64,
        count=len(dev),
    )


def _outcome(dev: Devices, group: str, pick: npt.NDArray[np.bool_]) -> Outcome:
    n = int(pick.sum())
    products = len(
        set(zip(dev.vendor_key[pick], (model_key(m) for m in dev.model[pick]), strict=True))
    )
    rates = {r: wilson(int(getattr(dev, r)[pick].sum()), n) for r in RATES}
    return Outcome(group, products, n, rates)


def outcomes(
    dev: Devices, labels: Sequence[Label], rounds: Sequence[int] | None
) -> tuple[list[Outcome], list[Gap], int]:
    """Outcomes per group over the devices of ``rounds`` (None: all), the labelled-minus-
    unlabelled gaps, and how many devices were unidentified."""
    lv = levels(dev, labels)
    inround = np.ones(len(dev), dtype=bool) if rounds is None else np.isin(dev.round, rounds)
    groups = [("labelled", inround & (lv > 0))]
    groups += [(f"★{k}", inround & (lv == k)) for k in range(1, 5)]
    groups.append(("unlabelled", inround & (lv == UNLABELLED)))
    out = [_outcome(dev, name, pick) for name, pick in groups]
    lab, unl = out[0], out[-1]
    gaps = [
        Gap(r, newcombe(lab.rates[r].k, lab.rates[r].n, unl.rates[r].k, unl.rates[r].n))
        for r in RATES
    ]
    return out, gaps, int((inround & (lv == UNIDENTIFIED)).sum())
