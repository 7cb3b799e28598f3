"""The remote e-stop: the cloud stops trucks (all, or those it names) and releases them, over the radio.

Only the cloud may send it (signed like an order, ``net.auth``), so a truck obeys it one downlink latency after
it was sent, and no sooner: the stop is a hold reason (``HOLD_REMOTE``) that caps the truck's speed at zero until
the release arrives, on top of whatever else holds it. Engaging and releasing are logged per truck in
``events.csv`` (``remote_estop``, ``remote_release``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fleet.state import HOLD_REMOTE


class RemoteEstop:
    """Applies the cloud's e-stop commands to the simulation ``sim`` (a ``fleet.engine.Simulation``)."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.engaged = 0  # trucks stopped by a command (each arrival that engaged a free truck)
        sim.comms.listen_estop(self._arrive)

    def _arrive(self, i: int, engage: bool, t_arrival: float) -> None:
        sim = self.sim
        if t_arrival > sim.t:
            sim.queue.push(t_arrival, self._arrive, i, engage, t_arrival)
            return
        held = bool(sim.fleet.hold_reason[i] & HOLD_REMOTE)
        if held == engage:
            return  # already so: a repeated command changes nothing
        sim.hold(np.array([i]), HOLD_REMOTE, engage)
        self.engaged += int(engage)
        sim._record(i, "remote_estop" if engage else "remote_release", "")
