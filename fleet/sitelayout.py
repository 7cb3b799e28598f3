"""The site layout the fleet publishes (retained) for the cloud to plan on: facilities, units, routes, times.

The cloud never imports the fleet package, so everything a planner needs travels here: per load point its
units (bucket, fill, pass time, sides, dig rate) and what each truck class of the run takes there (passes,
payload, load time); per sink its bays and what it accepts; per route its length, its free-flow time for every
class of the run empty and loaded, and the (class, loaded) variants it is the route for on the roads open now.
``fleet`` gives the trucks of each class. It is republished when a road closure starts or ends.
See docs/architecture.md, "Messages".
"""

from __future__ import annotations

from typing import Any

from fleet.loading import planned_passes


def _r(x: float, nd: int = 1) -> float:
    return round(float(x), nd)


def layout_body(sim: Any) -> dict[str, Any]:
    """The ``layout`` message body for a ``fleet.engine.Simulation`` as it stands now."""
    used = sorted(set(sim.fleet.class_index.tolist()))
    counts = {c: int((sim.fleet.class_index == c).sum()) for c in used}
    main = max(used, key=lambda c: (counts[c], -c))  # the class most trucks are of
    facilities = []
    for sp in sim.points:
        x, y, _ = sim.fac_xyz[sp.index]
        item: dict[str, Any] = {"id": sp.id, "kind": sp.kind, "x": _r(x, 2), "y": _r(y, 2), "bays": max(sp.bays, 1)}
        if sp.kind == "shovel":
            units, per_class = [], {}
            for u in sp.units:
                sh = sim.shovels[u.id]
                loads = {}
                for c in used:
                    tc = sim.classes[c]
                    load = planned_passes(tc.payload_t, sh.pass_t, sim.params.loading)
                    loads[tc.id] = {"passes": load.passes, "payload_t": _r(load.payload_t),
                                    "load_s": _r(sh.spot_s + load.passes * sh.cycle_s)}
                units.append({"id": u.id, "bucket_t": sh.bucket_t, "fill_factor": sh.fill_factor,
                              "cycle_s": sh.cycle_s, "spot_s": sh.spot_s, "sides": sh.sides,
                              "dig_tph": _r(sh.pass_t * 3600.0 / sh.cycle_s), "by_class": loads})
                per_class[u.id] = loads
            # Time between trucks leaving when every unit is busy, times the unit count: service_s / bays is
            # then the area's effective time per truck, as planners read it for a single shovel.
            for c in used:
                rate = sum(1.0 / per_class[u.id][sim.classes[c].id]["load_s"] for u in sp.units)
                if c == main:
                    item["service_s"] = _r(sp.bays / rate)
                item.setdefault("service_s_by_class", {})[sim.classes[c].id] = _r(sp.bays / rate)
            item.update(material=sim.point_material[sp.index], units=units)
        elif sp.kind in ("dump", "crusher"):
            d = sim.dumps[sp.id]
            item.update(accepts=list(d.accepts), service_s=d.dump_s)
            if d.capacity_tph:
                item["capacity_tph"] = d.capacity_tph
        facilities.append(item)
    rt = sim.rt
    serves: dict[int, list[list[Any]]] = {}
    for (_, _, c, loaded), index in sorted(sim.by_pair.items()):
        if c in counts:
            serves.setdefault(index, []).append([sim.classes[c].id, loaded])
    routes = [{"id": r.id, "from": r.origin, "to": r.dest, "length_m": _r(r.length_m),
               "time_s": {sim.classes[c].id: [_r(rt.free_flow_time_s(r.index, c, False)),
                                              _r(rt.free_flow_time_s(r.index, c, True))] for c in used},
               "for": serves[r.index]}
              for r in rt.routes if r.index in serves]
    fleet = {sim.classes[c].id: counts[c] for c in used}
    return {"site": sim.mine.site, "facilities": facilities, "routes": routes, "fleet": fleet}
