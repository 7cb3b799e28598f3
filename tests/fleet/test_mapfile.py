"""Map loading: good maps load; each kind of bad map is refused naming the feature, the property, the problem."""

from __future__ import annotations

import pytest
from conftest import REPO, collection, line_map, point, road

from fleet.errors import InputError
from fleet.mapfile import load_map
from fleet.roads import build_network


def load(write_map, doc):
    mine = load_map(write_map(doc))
    return mine, build_network(mine)


def test_line_map_loads_with_three_nodes_and_both_directions(write_map):
    """The park splits the road; a two-way road gives two directed edges per piece."""
    mine, net = load(write_map, line_map())
    assert mine.site == "test"
    assert len(net.nodes) == 3
    assert len(net.edges) == 4
    assert net.road_length_m == pytest.approx(2000.0)


def test_shipped_maps_load():
    """Every map in maps/ loads and snaps into a graph."""
    maps = sorted((REPO / "maps").glob("*.geojson"))
    assert maps, "no shipped maps"
    for p in maps:
        build_network(load_map(p))


@pytest.mark.parametrize("doc, where, problem", [
    (collection([road("R1", [[0, 0, 0], [1000, 0, 0]]), road("R2", [[500, 0, 0], [500, 400, 0]]),
                 point("shovel", "S1", [0, 0, 0]), point("dump", "D1", [1000, 0, 0])]),
     "road R2", "dangling end at (500.0, 400.0)"),
    (collection([road("R1", [[0, 0, 0], [1000, 0, 0]]), point("shovel", "S1", [500, 300, 0]),
                 point("dump", "D1", [1000, 0, 0])]),
     "shovel S1", "off every road"),
    (collection([road("R1", [[0, 0, 0], [1000, 0, 0]], speed_limit_kmh="fast"), point("shovel", "S1", [0, 0, 0]),
                 point("dump", "D1", [1000, 0, 0])]),
     "road R1", "'speed_limit_kmh' must be a number, got 'fast'"),
    (collection([road("R1", [[0, 0, 0], [1000, 0, 0]]), point("shovel", "S1", [0, 0, 0]),
                 point("dump", "D1", [1000, 0, 0]), point("helipad", "H1", [10, 0, 0])]),
     "feature H1", "unknown kind 'helipad'"),
    (collection([road("R1", [[0, 0, 0], [1000, 0, 0]]), point("shovel", "S1", [0, 0, 0], bucket_t=-5),
                 point("dump", "D1", [1000, 0, 0])]),
     "shovel S1", "'bucket_t' must be > 0"),
    (collection([road("R1", [[0, 0, 0], [1000, 0, 0]]), point("shovel", "S1", [0, 0, 0], colour="red"),
                 point("dump", "D1", [1000, 0, 0])]),
     "shovel S1", "unknown key 'colour'"),
    (collection([road("R1", [[0, 0, 0], [100, 0, 50]]), point("shovel", "S1", [0, 0, 0]),
                 point("dump", "D1", [100, 0, 50])]),
     "road R1", "grade 50% between positions 0 and 1"),
    (collection([road("R1", [[0, 0, 0], [1000, 0, 0]]), point("shovel", "S1", [0, 0, 0]),
                 point("dump", "S1", [1000, 0, 0])]),
     "feature S1", "duplicate id"),
    (collection([road("R1", [[0, 0, 0], [1000, 0, 0]]), point("shovel", "S1", [0, 0, 0], material="waste"),
                 point("dump", "D1", [1000, 0, 0], accepts=["coal"])]),
     "shovel S1", "no dump or crusher accepts its material 'waste'"),
    (collection([road("R1", [[0, 0, 0], [1000, 0, 0]], one_way=True), point("shovel", "S1", [0, 0, 0]),
                 point("dump", "D1", [1000, 0, 0])]),
     "shovel S1", "no road route to and back"),
])
def test_bad_map_names_feature_and_problem(write_map, doc, where, problem):
    path = write_map(doc)
    with pytest.raises(InputError) as err:
        from fleet.truckclass import truck_classes
        from minefleet.assemble import load_site
        load_site(str(path), list(truck_classes().values()))
    msg = str(err.value)
    assert msg.startswith(str(path))
    assert where in msg
    assert problem in msg


def test_invalid_json_names_line_and_column(write_map):
    path = write_map('{"type": "FeatureCollection", "features": [\n  {"type": "Feature",, }\n]}')
    with pytest.raises(InputError, match=r"invalid JSON at line 2 column 22"):
        load_map(path)


def test_t_junction_splits_the_road(write_map):
    """A road ending on another road's interior joins it there: trucks can turn at the T."""
    doc = collection([road("R1", [[0, 0, 0], [1000, 0, 0]]), road("R2", [[400, 0.5, 0], [400, 600, 0]]),
                      point("shovel", "S1", [400, 600, 0]), point("dump", "D1", [1000, 0, 0]),
                      point("dump", "D2", [0, 0, 0])])
    _, net = load(write_map, doc)
    assert len(net.nodes) == 4  # two ends of R1, the T, the shovel end of R2
    path = net.path(net.facility_node["S1"], net.facility_node["D1"])
    assert [net.edges[e].road_id for e in path] == ["R2", "R1"]


def _with_top_level_id(feature: dict, fid: object, keep_property: bool) -> dict:
    """The feature as GIS tools write it: the id as the Feature's own member (RFC 7946), beside 'properties'."""
    props = {k: v for k, v in feature["properties"].items() if keep_property or k != "id"}
    return {**feature, "id": fid, "properties": props}


def test_a_top_level_feature_id_is_the_features_id(write_map):
    doc = line_map()
    doc["features"] = [_with_top_level_id(f, f["properties"]["id"], keep_property=False) for f in doc["features"]]
    doc["features"][0] = _with_top_level_id(doc["features"][0], "R1", keep_property=True)  # both, the same
    mine = load_map(write_map(doc))
    assert [r.id for r in mine.roads] == ["R1"] and [s.id for s in mine.shovels] == ["S1"]
    assert {d.id for d in mine.dumps} and {p.id for p in mine.parks}


def test_a_top_level_id_that_differs_from_properties_id_is_refused_naming_both(write_map):
    doc = line_map()
    doc["features"][1] = _with_top_level_id(doc["features"][1], "shovel-7", keep_property=True)
    path = write_map(doc)
    with pytest.raises(InputError) as err:
        load_map(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: feature #1: ") and "'shovel-7'" in msg and "'S1'" in msg
    assert "\n" not in msg
