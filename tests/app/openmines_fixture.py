"""Small mines in the OpenMines scenario format (our own, written for these tests), as Python dicts.

``mine()`` has five load sites (some with several shovels) and four dump sites, so the [load][dump] matrices are
not square and a transposed one is caught; three truck types of 35, 55 and 77 t; and a distance table that is
not metric: the direct haul from the first load site to the first dump site (12 km) is twice as long as going
load 0 -> dump 1 -> load 1 -> dump 0 (2 + 1.5 + 2.5 km). ``one_road()`` is checkable by hand.
"""

from __future__ import annotations

import copy
from typing import Any

# [load site][dump site], km
L2D = [[12.0, 2.0, 4.5, 6.0],
       [2.5, 3.0, 5.0, 4.0],
       [3.5, 2.8, 1.9, 3.3],
       [4.4, 5.1, 2.6, 1.7],
       [6.2, 3.9, 3.1, 2.2]]
# [load site][dump site], km: D2L[i][j] is the way back from dump j to load i (OpenMines' own indexing)
D2L = [[11.0, 2.2, 4.1, 6.4],
       [2.7, 1.5, 5.2, 4.3],
       [3.4, 3.0, 2.0, 3.5],
       [4.9, 5.0, 2.4, 1.8],
       [6.0, 4.2, 3.3, 2.5]]
C2L = [1.2, 2.4, 3.0, 3.6, 4.1]


def _shovels(site: str, specs: list[tuple[float, float]]) -> list[dict[str, Any]]:
    return [{"name": f"{site}-Shovel-{k + 1}", "tons": tons, "cycle_time": cyc, "position_offset": [0.02, 0.01 * k]}
            for k, (tons, cyc) in enumerate(specs)]


def mine() -> dict[str, Any]:
    loads = [("LoadSite1", [0.10, 0.20], [(20.32, 1.5), (2.25, 1.0)]),
             ("LoadSite2", [0.10, 0.50], [(11.0, 1.0)]),
             ("LoadSite3", [0.10, 0.80], [(20.32, 1.5), (2.25, 1.0), (2.25, 1.0)]),
             ("LoadSite4", [0.30, 0.80], [(5.5, 0.5)]),
             ("LoadSite5", [0.30, 0.20], [(20.32, 1.5), (20.32, 1.5)])]
    dumps = [("DumpSite1", [0.80, 0.10], [(5, 1.0)]),
             ("DumpSite2", [0.80, 0.30], [(2, 1.0), (1, 2.0)]),
             ("DumpSite3", [0.80, 0.50], [(3, 0.8)]),
             ("DumpSite4", [0.80, 0.70], [(4, 1.2)])]
    return {
        "mine": {"name": "TestPitMine"},
        "dispatcher": {"type": ["NearestDispatcher", "SQDispatcher"]},
        "charging_site": {
            "name": "TestPitChargingSite", "position": [0, 0],
            "trucks": [{"type": "LightTruck", "count": 4, "capacity": 35, "speed": 25},
                       {"type": "MidTruck", "count": 3, "capacity": 55, "speed": 22},
                       {"type": "HeavyTruck", "count": 2, "capacity": 77, "speed": 28}],
        },
        "load_sites": [{"name": n, "position": p, "shovels": _shovels(n, s),
                        "parkinglot": {"name": f"{n}-ParkingLot", "position_offset": [-0.08, 0]}}
                       for n, p, s in loads],
        "dump_sites": [{"name": n, "position": p,
                        "dumpers": [{"count": c, "cycle_time": t, "position_offset": [0.0, 0.05]} for c, t in g],
                        "parkinglot": {"name": f"{n}-ParkingLot", "position_offset": [0.06, 0.06]}}
                       for n, p, g in dumps],
        "road": {"l2d_road_matrix": copy.deepcopy(L2D), "d2l_road_matrix": copy.deepcopy(D2L),
                 "charging_to_load_road_matrix": list(C2L),
                 "road_event_params": {"lambda_repair": 0.005, "mu_repair_duration": 40}},
        "sim_time": 120,
    }


def one_road() -> dict[str, Any]:
    """One load site (one 11 t / 1 min shovel: a 55 t truck takes exactly 5 passes), one dump site with two
    1-minute dumpers, three 55 t trucks at 25 km/h; 3 km loaded, 3.5 km back, 2 km from the charging site."""
    return {
        "mine": {"name": "OneRoad"},
        "charging_site": {"name": "Charging", "position": [0, 0],
                          "trucks": [{"type": "Hauler", "count": 3, "capacity": 55, "speed": 25}]},
        "load_sites": [{"name": "Pit", "position": [0.2, 0.0],
                        "shovels": [{"name": "Pit-Shovel", "tons": 11.0, "cycle_time": 1.0,
                                     "position_offset": [0.01, 0]}]}],
        "dump_sites": [{"name": "Dump", "position": [0.5, 0.0],
                        "dumpers": [{"count": 2, "cycle_time": 1.0, "position_offset": [0, 0.01]}]}],
        "road": {"l2d_road_matrix": [[3.0]], "d2l_road_matrix": [[3.5]], "charging_to_load_road_matrix": [2.0]},
        "sim_time": 480,
    }
