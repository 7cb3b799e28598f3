"""Exit lines (fleet/departures.py) on the peer benchmark's mine, where all 71 trucks leave one charging site at
shift start and a truck broken down near a bench exit holds others back: trucks pull out first come, first served;
only the first in line looks; and no look the blocking trucks' motion bound skips could have found the exit clear.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from bench import peer_openmines as peer
from fleet import departures
from minefleet.assemble import build_run, load_site

HOURS = 1.0


@pytest.fixture(scope="module")
def peer_scenario(tmp_path_factory):
    scn = peer.imported_scenario(tmp_path_factory.mktemp("peer"))
    return scn, load_site(str(scn.map_path), scn.classes())


def run_shift(peer_scenario, monkeypatch, every_second: bool):
    """A shift with every exit look recorded: (truck, request) -> [(t, wait or None), ...]. With ``every_second``
    the first truck in line looks every second, as if no look were skipped."""
    scn, site = peer_scenario
    looks: dict[tuple[int, int], list[tuple[float, float | None]]] = defaultdict(list)
    joins: dict[int, list[tuple[int, int]]] = defaultdict(list)
    exit_wait, depart = departures.Departures._exit_wait, departures.Departures._depart

    def spy_wait(self, i, route, first):
        wait = exit_wait(self, i, route, first)
        looks[(i, int(self.fleet.request_seq[i]))].append((self.t, wait))
        return wait

    def spy_depart(self, i, route, request):
        joins[int(self.rt.route_edges[route, 0])].append((i, request))
        depart(self, i, route, request)

    monkeypatch.setattr(departures.Departures, "_exit_wait", spy_wait)
    monkeypatch.setattr(departures.Departures, "_depart", spy_depart)
    if every_second:
        monkeypatch.setattr(departures.Departures, "_retry_time", lambda self, wait: self.t + departures.DEPART_RETRY_S)
    run = build_run(scn, site)
    run.sim.run(HOURS * 3600.0)
    log = list(run.sim.log)
    run.close()
    monkeypatch.undo()
    return looks, joins, log


def test_no_skipped_look_could_have_found_the_exit_clear(peer_scenario, monkeypatch):
    looks, _, _ = run_shift(peer_scenario, monkeypatch, every_second=True)
    dt = peer_scenario[0].dt_s
    total = skippable = 0
    for series in looks.values():
        earliest = -1.0
        for t, wait in series:
            total += 1
            if t < earliest:
                skippable += 1
                assert wait is not None, f"a look at {t} s found the exit clear before the bound {earliest} s"
            if wait is not None:
                earliest = max(earliest, t + wait - 2 * dt)
    assert total > 2000 and skippable > 0.7 * total, (total, skippable)  # it covers the garage's long line


def test_trucks_pull_out_in_line_order_and_only_the_first_looks(peer_scenario, monkeypatch):
    looks, joins, log = run_shift(peer_scenario, monkeypatch, every_second=False)
    ids = {tid: k for k, tid in enumerate(sorted({e[1] for e in log if e[1].startswith("T")}))}
    departed = [ids[truck] for _, truck, event, _, _ in log if event == "depart"]
    garage = next(iter(joins.values()))[:71]  # the charging site's exit, where every truck's first order starts
    order = [i for i, _ in garage]
    assert sorted(order) == list(range(71))
    # Each truck's first departure is from the garage; one that broke down in the line left it, and joined again
    # at the back when repaired.
    broke = {ids[truck] for _, truck, event, _, _ in log if event == "breakdown"}
    first_departures = [i for i in dict.fromkeys(departed) if i not in broke]
    in_line = [i for i in order if i not in broke]
    assert len(in_line) > 50 and first_departures[:len(in_line)] == in_line
    # Only the first in line looks: fewer looks than trucks waited seconds, by far.
    n_looks = sum(len(v) for v in looks.values())
    assert n_looks < 3000


def test_a_truck_that_breaks_down_in_line_leaves_it(peer_scenario, monkeypatch):
    """A waiting truck goes down: the next in line pulls out when the exit clears, not when the broken one's
    look would have come."""
    scn, site = peer_scenario
    run = build_run(scn, site)
    sim = run.sim
    sim.run(60.0)
    garage = next(line for line in sim.exit_lines.values() if len(line) > 3)
    second, third = garage[1][0], garage[2][0]
    sim._truck_down(second)
    sim.run(600.0)
    departs = {truck: t for t, truck, event, _, _ in sim.log if event == "depart"}
    run.close()
    assert sim.fleet.ids[second] not in departs
    assert sim.fleet.ids[third] in departs
