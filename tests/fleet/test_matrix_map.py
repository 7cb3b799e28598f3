"""Matrix maps: each road a direct link between two facilities, of its declared length, never snapped into junctions."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import collection, point, road

from fleet.errors import InputError
from fleet.mapfile import load_map
from fleet.roads import build_network


def unit(fid: str, xyz: list[float], **props: Any) -> dict[str, Any]:
    """A shovel feature in the current format (no 'passes': a truck's passes follow from its payload)."""
    feat = point("shovel", fid, xyz, **props)
    feat["properties"].pop("passes", None)
    return feat


def drawn_map() -> dict[str, Any]:
    """One straight flat 2 km road, a unit at one end, a dump at the other."""
    return collection([road("R1", [[0, 0, 0], [2000, 0, 0]]), unit("S1", [0, 0, 0]), point("dump", "D1", [2000, 0, 0])])


def matrix_map(roads: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A loading area with one unit, two dumps, a park; roads as an OpenMines-style distance table would give."""
    doc = collection([
        {"type": "Feature", "properties": {"kind": "loading_area", "id": "LA", "material": "coal"},
         "geometry": {"type": "Point", "coordinates": [0, 0, 0]}},
        unit("S1", [10, 0, 0], area="LA"),
        point("dump", "D1", [1000, 0, 0]),
        point("dump", "D2", [1000, 800, 0]),
        point("park", "P1", [-500, 0, 0]),
        *(roads if roads is not None else [
            road("LA-D1", [[0, 0, 0], [500, 20, 0], [1000, 0, 0]], one_way=True, length_m=3000.0),
            road("D1-LA", [[1000, 0, 0], [0, 0, 0]], one_way=True, length_m=3500.0),
            road("LA-D2", [[0, 0, 0], [1000, 800, 0]], one_way=True, length_m=2500.0),
            road("D2-LA", [[1000, 800, 0], [0, 0, 0]], one_way=True, length_m=2000.0),
            road("P1-LA", [[-500, 0, 0], [0, 0, 0]], length_m=1200.0),
        ]),
    ])
    doc["minefleet"]["roads"] = "matrix"
    return doc


def test_matrix_map_keeps_declared_lengths_and_one_node_per_facility(write_map):
    mine = load_map(write_map(matrix_map()))
    assert mine.road_model == "matrix"
    assert {r.id: r.length_m for r in mine.roads} == {"LA-D1": 3000.0, "D1-LA": 3500.0, "LA-D2": 2500.0,
                                                      "D2-LA": 2000.0, "P1-LA": 1200.0}
    net = build_network(mine)
    assert net.direct_only
    # Load point, two dumps, park: each its own node at its own position; LA-D1 and D1-LA are not merged.
    assert sorted(net.facility_node) == ["D1", "D2", "LA", "P1"]
    assert len(net.nodes) == 4
    assert net.nodes[net.facility_node["D2"]].tolist() == [1000.0, 800.0, 0.0]
    # Four one-way roads, one two-way road: six edges, each of its declared length, not its drawn one.
    assert len(net.edges) == 6
    assert sorted(e.length_m for e in net.edges) == [1200.0, 1200.0, 2000.0, 2500.0, 3000.0, 3500.0]
    assert net.road_length_m == pytest.approx(3000 + 3500 + 2500 + 2000 + 1200)
    n = net.facility_node
    (e,) = (net.edges[i] for i in net.path(n["LA"], n["D1"]))
    assert (e.road_id, e.length_m, e.coords.shape) == ("LA-D1", 3000.0, (3, 3))
    assert [net.edges[i].road_id for i in net.path(n["D1"], n["LA"])] == ["D1-LA"]
    back = [net.edges[i] for i in net.path(n["LA"], n["P1"])]
    assert [(x.road_id, x.forward) for x in back] == [("P1-LA", False)]
    # No road from the park to a dump: a matrix route never runs through a third site (here the loading area).
    assert net.path(n["P1"], n["D1"]) is None


def test_drawn_map_is_the_default_and_keeps_its_geometry(write_map):
    mine = load_map(write_map(drawn_map()))
    assert mine.road_model == "drawn"
    assert [r.length_m for r in mine.roads] == [None]
    net = build_network(mine)
    assert not net.direct_only
    assert net.road_length_m == pytest.approx(2000.0)


def bad(write_map, doc: dict[str, Any]) -> str:
    path = write_map(doc)
    with pytest.raises(InputError) as err:
        build_network(load_map(path))
    msg = str(err.value)
    assert msg.startswith(str(path))
    return msg


def test_road_end_off_every_facility_is_refused(write_map):
    msg = bad(write_map, matrix_map([road("R9", [[0, 0, 0], [700, 300, 0]], one_way=True, length_m=900.0)]))
    assert "road R9: end at (700.0, 300.0) is on no facility" in msg
    assert "nearest: dump D1" in msg


def test_road_end_near_a_facility_but_not_on_it_is_refused(write_map):
    """Within a drawn map's 50 m snap, but a matrix road must end on the facility (1 m): no snapping."""
    msg = bad(write_map, matrix_map([road("R9", [[0, 0, 0], [1000, 5, 0]], one_way=True, length_m=900.0)]))
    assert "road R9: end at (1000.0, 5.0) is on no facility (nearest: dump D1, 5.0 m away" in msg


def test_road_with_both_ends_at_one_facility_is_refused(write_map):
    msg = bad(write_map, matrix_map([road("R9", [[0, 0, 0], [300, 300, 0], [0, 0.5, 0]], length_m=900.0)]))
    assert "road R9: both ends are at loading_area LA" in msg


def test_length_missing_on_a_matrix_map_is_refused(write_map):
    msg = bad(write_map, matrix_map([road("R1", [[0, 0, 0], [1000, 0, 0]], one_way=True)]))
    assert "road R1: missing required 'length_m'" in msg


def test_length_on_a_drawn_map_is_refused(write_map):
    doc = drawn_map()
    doc["features"][0]["properties"]["length_m"] = 2500.0
    msg = bad(write_map, doc)
    assert "road R1: 'length_m' is only allowed on a matrix map" in msg


@pytest.mark.parametrize("length, problem", [(-250.0, "'length_m' must be > 0, got -250"),
                                             (0.0, "'length_m' must be > 0, got 0"),
                                             ("far", "'length_m' must be a number, got 'far'")])
def test_bad_length_is_refused(write_map, length, problem):
    msg = bad(write_map, matrix_map([road("R1", [[0, 0, 0], [1000, 0, 0]], one_way=True, length_m=length)]))
    assert f"road R1: {problem}" in msg


def test_unknown_road_model_is_refused(write_map):
    doc = matrix_map()
    doc["minefleet"]["roads"] = "sketched"
    msg = bad(write_map, doc)
    assert "minefleet: 'roads' must be one of drawn, matrix; got 'sketched'" in msg


def test_grade_is_judged_over_the_declared_length(write_map):
    """A 30 m rise drawn over 100 m but declared 1 km long is a 3 % ramp, not a 30 % one; declared 120 m it is 25 %."""
    ramp = [[-500, 0, 0], [-400, 0, 30]]
    ok = matrix_map([road("R1", [*ramp, [0, 0, 0]], length_m=1000.0)])
    ok["features"][4]["geometry"]["coordinates"] = [-400, 0, 30]  # the park on top of the ramp
    ok["features"][-1]["geometry"]["coordinates"] = [[-400, 0, 30], [0, 0, 0]]
    net = build_network(load_map(write_map(ok)))
    assert [e.length_m for e in net.edges] == [1000.0, 1000.0]
    steep = matrix_map([road("R1", [[-400, 0, 30], [0, 0, 0]], length_m=120.0)])
    steep["features"][4]["geometry"]["coordinates"] = [-400, 0, 30]
    assert "road R1: grade 25% between positions 0 and 1" in bad(write_map, steep)
