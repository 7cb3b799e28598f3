"""The haul cycle at the facilities: a truck arrives, queues, is spotted, loaded or tips, and asks for its next order.

What happens at shovels, dumps and crushers, kept apart from the clock and the motion of ``fleet.engine``. A mixin
of ``fleet.engine.Simulation``: it works on the simulation's own fleet arrays, service points, event queue, random
generator and records. See docs/architecture.md, "Trucks and motion".
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from fleet.facilities import ServicePoint, Unit
from fleet.loading import Load, load_truck
from fleet.state import TruckState


class ServiceCycle:
    """The facility side of the haul cycle (see the module docstring)."""

    fleet: Any
    points: list[ServicePoint]
    shovels: dict[str, Any]
    dumps: dict[str, Any]
    classes: list[Any]
    params: Any
    queue: Any
    comms: Any
    claims: Any
    rng: np.random.Generator
    materials: list[str]
    point_material: dict[int, str]
    fac_xyz: Any
    loads_log: list[tuple[int, float, int, bool, float, str]]
    tonnes: np.ndarray
    loads: np.ndarray
    tonnes_by_material: Counter[str]
    cycle_times: list[tuple[int, float]]
    cycle_starts: np.ndarray
    t: float

    def _arrive(self, i: int) -> None:
        f = self.fleet
        dest = int(f.dest[i])
        self.claims.release(i)
        f.route[i], f.dest[i], f.v[i], f.s[i] = -1, -1, 0.0, 0.0
        f.at[i] = dest
        f.x[i], f.y[i], f.z[i] = self.fac_xyz[dest]
        sp = self.points[dest]
        self._record(i, "arrive", sp.id)
        self.comms.event(i, self.t, self._event_body(i, "arrive"))  # the cloud learns travel times from these
        if sp.kind == "park":  # parked by an order: the truck asks again, so no order strands it there
            self._request(i, "ready")
            return
        self._join(i)

    def _join(self, i: int) -> None:
        """Queue at the facility the truck is at (on arrival, at shift start, or back from a repair)."""
        f = self.fleet
        sp = self.points[f.at[i]]
        if not sp.up:  # every unit is out of service (the order was given before it went down)
            self._request(i, "ready")
            return
        f.state[i] = TruckState.QUEUE_LOAD if sp.kind == "shovel" else TruckState.QUEUE_DUMP
        sp.arrive(i, self.t, int(f.want_unit[i]))
        f.want_unit[i] = -1
        self._serve(sp)

    def _can_serve(self, sp: ServicePoint, i: int) -> bool:
        """The facility is up and is where this truck's next step is (empty at a shovel, loaded at a sink that
        takes its load): such a truck rejoins the queue rather than asking for an order it cannot get."""
        f = self.fleet
        if not sp.up:
            return False
        if sp.kind == "shovel":
            return f.payload_t[i] == 0
        return (sp.kind in ("dump", "crusher") and f.payload_t[i] > 0
                and self.materials[f.material[i]] in self.dumps[sp.id].accepts)

    def _serve(self, sp: ServicePoint) -> None:
        while (pick := sp.next_truck(self.t)) is not None:
            i, unit = pick
            f = self.fleet
            if sp.kind == "shovel":
                f.state[i] = TruckState.SPOT
                f.x[i], f.y[i], f.z[i] = unit.xyz
                self.queue.push(self.t + self.shovels[unit.id].spot_s, self._spotted, i, sp, unit)
            else:
                dump = self.dumps[sp.id]
                service = self._draw(dump.dump_s, self.params.dump_cv)
                if dump.capacity_tph:
                    service = max(service, f.payload_t[i] / dump.capacity_tph * 3600.0)
                f.state[i] = TruckState.DUMPING
                self.queue.push(self.t + service, self._dumped, i, sp, unit)

    def _draw(self, mean: float, cv: float) -> float:
        """A service time with the given mean and coefficient of variation (gamma; exact when cv = 0)."""
        if cv <= 0:
            return mean
        shape = 1.0 / (cv * cv)
        return float(self.rng.gamma(shape, mean / shape))

    def _spotted(self, i: int, sp: ServicePoint, unit: Unit) -> None:
        if unit.bucket_busy:
            unit.ready.append(i)  # the other side is loading: this truck is next for the bucket
            return
        self._load(i, sp, unit)

    def _load(self, i: int, sp: ServicePoint, unit: Unit) -> None:
        """Passes until the payload is nearest this truck's rated payload (``fleet.loading``)."""
        shovel = self.shovels[unit.id]
        tc = self.classes[self.fleet.class_index[i]]
        unit.bucket_busy = True
        self.fleet.state[i] = TruckState.LOADING
        load = load_truck(tc.payload_t, shovel.pass_t, lambda: self._draw(shovel.pass_t, self.params.payload_cv),
                          self.params.loading)
        load_s = sum(self._draw(shovel.cycle_s, self.params.cycle_cv) for _ in range(load.passes))
        self.queue.push(self.t + load_s, self._loaded, i, sp, unit, load, load_s)

    def _loaded(self, i: int, sp: ServicePoint, unit: Unit, load: Load, load_s: float) -> None:
        f = self.fleet
        f.payload_t[i] = load.payload_t
        f.material[i] = self.materials.index(self.point_material[sp.index])
        f.x[i], f.y[i], f.z[i] = self.fac_xyz[sp.index]
        unit.bucket_busy = False
        sp.vacate(unit, self.t)
        sp.tonnes += load.payload_t
        unit.tonnes += load.payload_t
        self.loads_log.append((int(f.class_index[i]), load.payload_t, load.passes, load.trimmed, load_s, unit.id))
        self._record(i, "loaded", sp.id)
        if unit.ready:
            self._load(unit.ready.popleft(), sp, unit)
        self._settle(sp, unit)
        self._serve(sp)
        self._next(i, "loaded")

    def _dumped(self, i: int, sp: ServicePoint, unit: Unit) -> None:
        f = self.fleet
        payload = float(f.payload_t[i])
        sp.vacate(unit, self.t)
        sp.tonnes += payload
        unit.tonnes += payload
        self.tonnes[i] += payload
        self.loads[i] += payload > 0  # an empty truck sent to tip tips nothing: no load
        self.tonnes_by_material[self.materials[f.material[i]]] += payload
        if np.isfinite(self.cycle_starts[i]):
            self.cycle_times.append((int(f.class_index[i]), self.t - self.cycle_starts[i]))
        self.cycle_starts[i] = self.t
        self._record(i, "dumped", sp.id)
        f.payload_t[i] = 0.0
        f.material[i] = -1
        self._settle(sp, unit)
        self._serve(sp)
        self._next(i, "dumped")

    def _next(self, i: int, event: str) -> None:
        """After service: ask for an order, unless the truck broke down while it was being served."""
        if self.fleet.fail_pending[i]:
            self._truck_down(i)
        else:
            self._request(i, event)

    # provided by the simulation and its other parts
    _record: Any
    _event_body: Any
    _request: Any
    _settle: Any
    _truck_down: Any
