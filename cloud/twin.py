"""The cloud's fleet twin: what the cloud believes about each truck, from telemetry and events only."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit


class _Columns:
    """What telemetry updates, one array per field over every truck the twin knows: a period's telemetry of the
    whole fleet lands in one pass of numpy (``FleetTwin.on_telemetry_batch``)."""

    def __init__(self) -> None:
        self.n = 0
        self.t_seen = np.empty(0)  # [s] simulation time of the newest message
        self.x = np.empty(0)  # [m]
        self.y = np.empty(0)  # [m]
        self.speed_mps = np.empty(0)
        self.payload_t = np.empty(0)
        self.state: list[str] = []

    def append(self) -> int:
        if self.n == len(self.t_seen):
            size = max(16, 2 * self.n)
            for name, fill in (("t_seen", -1.0), ("x", math.nan), ("y", math.nan), ("speed_mps", 0.0),
                               ("payload_t", 0.0)):
                grown = np.full(size, fill)
                grown[:self.n] = getattr(self, name)[:self.n]
                setattr(self, name, grown)
        self.state.append("UNKNOWN")
        self.n += 1
        return self.n - 1


def _column(name: str, doc: str) -> property:
    def get(view: TruckView) -> float:
        return float(getattr(view._cols, name)[view._i])

    def put(view: TruckView, value: float) -> None:
        getattr(view._cols, name)[view._i] = value

    return property(get, put, doc=doc)


class TruckView:
    """What the cloud believes about one truck. The fields telemetry updates live in the twin's columns."""

    __slots__ = ("_cols", "_i", "at", "dest", "down", "id", "truck_class")

    def __init__(self, truck_id: str, cols: _Columns) -> None:
        self.id = truck_id
        self.truck_class = ""
        self.at: str | None = None  # facility the truck is at, when it is at one
        self.dest: str | None = None  # destination of its current order
        self.down = False  # broken down, as its last event said
        self._cols = cols
        self._i = cols.append()

    t_seen = _column("t_seen", "[s] simulation time of the newest message")
    x = _column("x", "[m]")
    y = _column("y", "[m]")
    speed_mps = _column("speed_mps", "[m/s]")
    payload_t = _column("payload_t", "[t]")

    @property
    def state(self) -> str:
        return self._cols.state[self._i]

    @state.setter
    def state(self, value: str) -> None:
        self._cols.state[self._i] = value


LEARN_RATE = 0.2  # [-] weight of the newest observed trip in a route's learned travel time (assumption)


@dataclass
class FleetTwin:
    trucks: dict[str, TruckView] = field(default_factory=dict)
    _cols: _Columns = field(default_factory=_Columns)
    # senders -> their rows, and those rows as a slice when they run in order
    _batch_rows: tuple[list[str] | None, np.ndarray, slice | None] = (None, np.empty(0, dtype=np.int64), None)
    trip_s: dict[tuple[str, str, str, bool], float] = field(default_factory=dict)  # learned: (from, to, class, loaded)
    _ordered: dict[str, tuple[str, str, bool, float]] = field(default_factory=dict)  # truck -> (from, to, loaded, t)
    units_down: dict[str, set[str]] = field(default_factory=dict)  # facility -> units out of service
    units_up: dict[str, int] = field(default_factory=dict)  # facility -> units in service, as last reported

    def truck(self, truck_id: str) -> TruckView:
        view = self.trucks.get(truck_id)
        if view is None:
            view = self.trucks[truck_id] = TruckView(truck_id, self._cols)
        return view

    def on_telemetry(self, truck_id: str, t: float, body: dict[str, Any]) -> None:
        view = self.truck(truck_id)
        if t < view.t_seen:
            return  # an older message overtaken by a newer one
        view.t_seen = t
        view.x = float(body["x"])
        view.y = float(body["y"])
        view.speed_mps = float(body["v"])
        view.state = str(body["state"])
        view.payload_t = float(body["payload_t"])

    def on_telemetry_batch(self, truck_ids: list[str], t: float, x: np.ndarray, y: np.ndarray, v: np.ndarray,
                           state: list[str], payload_t: np.ndarray) -> None:
        """``on_telemetry`` for many trucks' messages (one each) delivered at ``t``, given as columns."""
        if truck_ids is not self._batch_rows[0]:  # a fleet sends the same list of senders every period
            trucks = self.trucks
            found = [trucks.get(tid) for tid in truck_ids]
            listed = [view._i if view is not None else self.truck(tid)._i for tid, view in zip(truck_ids, found,
                                                                                              strict=True)]
            first = listed[0] if listed else 0
            span = slice(first, first + len(listed)) if listed == list(range(first, first + len(listed))) else None
            self._batch_rows = (truck_ids, np.array(listed, dtype=np.int64), span)
        _, rows, span = self._batch_rows
        c = self._cols
        if span is not None and _write_run(span.start, t, x, y, v, payload_t, c.t_seen, c.x, c.y, c.speed_mps,
                                           c.payload_t):
            # The usual period: the senders are rows in a run (the twin met them in the order of their ids), and
            # every message is the newest: one compiled pass wrote them.
            c.state[span] = state
            return
        newer = ~(t < c.t_seen[rows])  # an older message overtaken by a newer one changes nothing
        if not newer.all():
            rows, x, y, v, payload_t = rows[newer], x[newer], y[newer], v[newer], payload_t[newer]
            state = [s for s, keep in zip(state, newer.tolist(), strict=True) if keep]
        c.t_seen[rows] = t
        c.x[rows], c.y[rows], c.speed_mps[rows], c.payload_t[rows] = x, y, v, payload_t
        for row, s in zip(rows.tolist(), state, strict=True):
            c.state[row] = s

    def on_event(self, truck_id: str, t: float, body: dict[str, Any]) -> None:
        view = self.truck(truck_id)
        view.t_seen = max(view.t_seen, t)
        view.at = body.get("at", view.at)
        view.payload_t = float(body.get("payload_t", view.payload_t))
        view.truck_class = str(body.get("truck_class", view.truck_class))
        event = body.get("event")
        if event == "arrive":
            self._learn(truck_id, view.truck_class, body.get("at"), t)
        if event in ("loaded", "dumped", "ready"):
            view.dest = None
            view.state = "WAIT_ORDER"
            view.down = False
        elif event in ("down", "up"):
            view.down = event == "down"
            view.state = "DOWN" if view.down else view.state
            view.dest = None if view.down else view.dest

    def on_equipment(self, body: dict[str, Any]) -> None:
        """A unit (shovel, bay) out of service or back, from the site's equipment topic."""
        facility, unit = str(body["facility"]), str(body["unit"])
        down = self.units_down.setdefault(facility, set())
        (down.add if body["state"] == "down" else down.discard)(unit)
        self.units_up[facility] = int(body["units_up"])

    def down_facilities(self) -> set[str]:
        """Facilities with no unit in service: no truck should be sent there."""
        return {f for f, n in self.units_up.items() if n == 0}

    def _learn(self, truck_id: str, cls: str, at: Any, t: float) -> None:
        """An observed trip, order to arrival (leaving the facility included), into the route's learned time."""
        trip = self._ordered.pop(truck_id, None)
        if trip is None or trip[1] != at:
            return
        key = (trip[0], trip[1], cls, trip[2])
        seen = t - trip[3]
        old = self.trip_s.get(key)
        self.trip_s[key] = seen if old is None else old + LEARN_RATE * (seen - old)

    def travel_s(self, layout: Any, origin: str, dest: str, cls: str, loaded: bool) -> float | None:
        """Travel time a planner should expect: learned from trips seen, else the layout's free-flow time."""
        learned = self.trip_s.get((origin, dest, cls, loaded))
        return learned if learned is not None else layout.travel_s(origin, dest, cls, loaded)

    def down_by_class(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for v in self.trucks.values():
            if v.down:
                out[v.truck_class] = out.get(v.truck_class, 0) + 1
        return out

    def down_units(self) -> frozenset[str]:
        return frozenset(u for units in self.units_down.values() for u in units)

    def on_order(self, truck_id: str, dest: str, t: float | None = None) -> None:
        view = self.truck(truck_id)
        if t is not None and view.at is not None:
            self._ordered[truck_id] = (view.at, dest, view.payload_t > 0, t)
        view.dest = dest
        view.state = "TRAVEL_LOADED" if view.payload_t > 0 else "TRAVEL_EMPTY"

    def heading_to(self) -> Counter[str]:
        """Trucks with an order to each destination and not yet dispatched elsewhere."""
        return Counter(v.dest for v in self.trucks.values() if v.dest is not None)


@njit(cache=True)
def _write_run(first: int, t: float, x: np.ndarray, y: np.ndarray, v: np.ndarray, payload_t: np.ndarray,
               t_seen: np.ndarray, col_x: np.ndarray, col_y: np.ndarray, col_v: np.ndarray,
               col_payload: np.ndarray) -> bool:
    """Write one period's telemetry into the rows ``first`` ... ``first + len(x) - 1`` if none of them holds a
    newer message (then True); else write nothing (False). One pass where the check and five slice assignments
    in numpy cost several microseconds a period."""
    n = len(x)
    for k in range(n):
        if t < t_seen[first + k]:
            return False
    for k in range(n):
        t_seen[first + k] = t
        col_x[first + k] = x[k]
        col_y[first + k] = y[k]
        col_v[first + k] = v[k]
        col_payload[first + k] = payload_t[k]
    return True
