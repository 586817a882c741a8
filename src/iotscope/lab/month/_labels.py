"""The month world's JC-STAR registry: which of the catalog's models carry a label.

JC-STAR ★1 requires, among its baseline, no default password shared by all units; so in the
world a model whose profile ships no default credential is labelled far more often (60%) than
one that does (10%: labelled on newer units, while older firmware in the field still ships the
default). The labels' field outcomes (``labels`` view) then show what the truth says, and the
truth lists every label, so a test can check the view against it.

The registry is drawn from its own seeded stream, so adding it changes none of the world's
other draws. :func:`registry_csv` writes it in the format ``iotscope makers jcstar import``
reads (``iotscope.makers._jcstar``).
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import numpy as np

from iotscope.lab.month._world import MonthWorld
from iotscope.makers._jcstar import FIELDS, Label

LABELLED_SHARE = {False: 0.6, True: 0.1}  # by "the profile ships a default credential"
_STREAM = 0x1AB31  # the registry's own seed stream


def labels(world: MonthWorld) -> list[Label]:
    """The registrations of the world's labelled models (one per model), registered within
    the year before day 0, valid two years."""
    rng = np.random.default_rng([world.seed, _STREAM])
    out: list[Label] = []
    for p in world.products.profiles:
        share = LABELLED_SHARE[bool(p.defaults)]
        for model in p.all_models():
            if rng.random() >= share:
                continue
            registered = (world.start - timedelta(days=int(rng.integers(30, 365)))).date()
            out.append(Label(
                registration=f"JC-LAB-{world.seed}-{len(out) + 1:04d}",
                vendor=p.vendor, model=model, level=1 if rng.random() < 0.8 else 2,
                registered=registered, expires=registered + timedelta(days=730),
            ))  # fmt: skip
    return out


def registry_csv(registry: list[Label]) -> str:
    """The registry as the CSV ``iotscope makers jcstar import`` reads."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(FIELDS[:6])
    for x in registry:
        w.writerow([x.registration, x.vendor, x.model, f"★{x.level}", x.registered.isoformat(),
                    x.expires.isoformat() if x.expires else ""])  # fmt: skip
    return buf.getvalue()
