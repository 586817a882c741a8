"""The simulated re-check backend: asks the lab's simulated state, sends no packet.

For month-scale runs (the benchmark, the demo's effect table): the lab's dynamics say, day
by day, which device sits at which address and whether it still accepts its weak login.
This backend reads only that observable state (``LabState.observe``), never the hazards in
the truth file, and is named ``simulated`` in every check it produces, so a simulated
follow-up is never mistaken for a real re-survey (the ``survey`` backend).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from iotscope.followup._model import Observation, Subject


class SeenLike(Protocol):
    @property
    def address(self) -> str: ...
    @property
    def identity(self) -> Mapping[str, str | None]: ...
    @property
    def exposed(self) -> bool: ...


class SimulatedWorld(Protocol):
    def observe(self, address: str, when: datetime) -> SeenLike | None: ...


class SimulatedRechecker:
    """A :class:`~iotscope.followup._model.Rechecker` over a simulated lab."""

    name = "simulated"

    def __init__(self, world: SimulatedWorld) -> None:
        self.world = world

    def recheck(
        self, targets: Sequence[tuple[Subject, str]], when: datetime
    ) -> list[Observation | None]:
        out: list[Observation | None] = []
        for _, address in targets:
            seen = self.world.observe(address, when)
            out.append(
                None if seen is None
                else Observation(seen.address, dict(seen.identity), seen.exposed,
                                 {"backend": "simulated"})
            )  # fmt: skip
        return out
