"""Per-truck state as a struct of numpy arrays: one tick updates the whole fleet.

See docs/architecture.md, "Trucks and motion".
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class TruckState(IntEnum):
    WAIT_ORDER = 0
    TRAVEL_EMPTY = 1
    QUEUE_LOAD = 2
    SPOT = 3
    LOADING = 4
    TRAVEL_LOADED = 5
    QUEUE_DUMP = 6
    DUMPING = 7
    HOLD = 8  # fail-safe controlled stop
    ESTOP = 9
    DOWN = 10  # broken down: off the travelled lane (or at a facility) until repaired


N_STATES = len(TruckState)
STATE_NAMES = [s.name for s in TruckState]
STATE_NAME_OF = np.array(STATE_NAMES, dtype=object)  # code -> name, for a whole fleet in one indexing
TRAVEL = np.array([TruckState.TRAVEL_EMPTY, TruckState.TRAVEL_LOADED])
ON_ROAD = np.array([TruckState.TRAVEL_EMPTY, TruckState.TRAVEL_LOADED, TruckState.HOLD, TruckState.ESTOP])
# Working states for truck utilisation: hauling, being loaded, dumping (not queueing, waiting or holding).
PRODUCTIVE = np.array([TruckState.TRAVEL_EMPTY, TruckState.SPOT, TruckState.LOADING,
                       TruckState.TRAVEL_LOADED, TruckState.DUMPING])


# Why a truck holds (bits of ``FleetArrays.hold_reason``); it resumes when no reason is left.
HOLD_PERCEPTION = 1  # its newest perception result is older than the budget
HOLD_LINK = 2  # its radio link has been lost longer than the timeout
HOLD_DOWN = 4  # it has broken down on the road: it stops where it is and blocks its lane
HOLD_REMOTE = 8  # the cloud's remote e-stop is engaged for it (fleet.estop)
HOLD_STOP = HOLD_LINK | HOLD_DOWN | HOLD_REMOTE  # reasons that stop the truck (perception holds set a stop
# through onboard)


class FleetArrays:
    """The fleet's mutable state; index i is truck ``ids[i]`` everywhere."""

    def __init__(self, ids: list[str], class_index: np.ndarray) -> None:
        n = len(ids)
        self.ids = ids
        self.n = n
        self.class_index = class_index.astype(np.int64)
        self.state = np.full(n, TruckState.WAIT_ORDER, dtype=np.int64)
        self.route = np.full(n, -1, dtype=np.int64)
        self.s = np.zeros(n)  # distance along route [m]
        self.v = np.zeros(n)  # speed [m/s]
        self.payload_t = np.zeros(n)
        self.material = np.full(n, -1, dtype=np.int64)  # index into the engine's material list
        self.at = np.zeros(n, dtype=np.int64)  # facility index where the truck is when not on a route
        self.dest = np.full(n, -1, dtype=np.int64)
        self.x = np.zeros(n)
        self.y = np.zeros(n)
        self.z = np.zeros(n)
        self.heading = np.zeros(n)  # [rad] from east, counter-clockwise
        self.odometer_m = np.zeros(n)
        self.state_time = np.zeros((n, N_STATES))  # [s] accumulated per state
        self.claim_section = np.full(n, -1, dtype=np.int64)  # single-lane section held
        self.claim_node = np.full(n, -1, dtype=np.int64)
        self.claim_s = np.zeros(n)  # route distance of the section entry [m]
        self.request_seq = np.zeros(n, dtype=np.int64)  # dispatch requests sent
        self.awaiting_order = np.zeros(n, dtype=bool)  # asked, no valid order yet
        self.hold_reason = np.zeros(n, dtype=np.int64)  # HOLD_* bits
        self.link_lost_since = np.full(n, np.inf)  # [s] start of the current radio outage
        self.down = np.zeros(n, dtype=bool)  # broken down, not yet repaired
        self.fail_pending = np.zeros(n, dtype=bool)  # broke down while being served: goes down when done
        self.down_since = np.full(n, np.nan)  # [s]
        self.down_s = np.zeros(n)  # [s] accumulated breakdown time
        self.want_unit = np.full(n, -1, dtype=np.int64)  # unit its order names at the destination (-1: any)
