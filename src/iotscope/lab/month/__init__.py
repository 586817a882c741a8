"""The month-scale lab world the analysis centre is measured on (issue 10).

``generate(seed, devices=10_000, isps=5, days=30, start=...)`` builds a :class:`MonthWorld`:
ISPs (national and regional, prefectures, subscribers), their subscribers' devices (catalog
product, model, firmware; weak login; address changes), botnet lineages whose C2 endpoints hand
over to each other, infection and clean-up day by day, each ISP's detector reporting only its
own subscribers' bots, and interventions (takedowns, blocks, a notice campaign) with hidden
effects. ``load(store, world)`` writes it where the real pipeline writes (survey rounds, C2
contacts, interventions, region counts); ``truth(world)`` is the ground truth (``truth.json``),
with each intervention's exact effect from the same world simulated without it.
"""

from iotscope.lab.month._load import Loaded, bot_names, load, survey_id
from iotscope.lab.month._truth import PRIMARY, survey_days, truth
from iotscope.lab.month._world import DEFAULT_START, MonthWorld, generate, without

__all__ = [
    "DEFAULT_START",
    "PRIMARY",
    "Loaded",
    "MonthWorld",
    "bot_names",
    "generate",
    "load",
    "survey_days",
    "survey_id",
    "truth",
    "without",
]
