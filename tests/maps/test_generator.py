"""The mine generator: shipped maps rebuilt byte for byte, random mines that the real loader takes and that vary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, collection, point, road

from fleet.errors import InputError
from fleet.loading import loadable
from fleet.mapfile import load_map, parse_map
from fleet.roads import build_network
from fleet.routes import RouteTable
from fleet.truckclass import truck_classes
from maps.generator import MapSummary, check_map, dumps_map, random_mine, random_params, shipped_maps
from maps.generator.__main__ import main
from maps.generator.open_pit import OpenPitParams
from minefleet.assemble import build_run
from minefleet.scenario import load_scenario

SEEDS = range(60)
CLASSES = list(truck_classes().values())


@pytest.fixture(scope="module")
def docs() -> dict[int, dict[str, Any]]:
    return {seed: random_mine(seed) for seed in SEEDS}


@pytest.fixture(scope="module")
def summaries(docs: dict[int, dict[str, Any]]) -> list[MapSummary]:
    """Seeds 0..59, each loaded by the real loader and routed for every shipped truck class."""
    return [check_map(doc, f"mine-{seed}", CLASSES) for seed, doc in docs.items()]


def test_shipped_maps_are_rebuilt_byte_for_byte() -> None:
    built = shipped_maps()
    assert set(built) == {p.stem for p in (REPO / "maps").glob("*.geojson")}
    for stem, doc in built.items():
        assert dumps_map(doc) == (REPO / "maps" / f"{stem}.geojson").read_text(encoding="utf-8"), stem
        check_map(doc, stem, CLASSES)


def test_every_random_mine_loads_and_routes(summaries: list[MapSummary]) -> None:
    assert len(summaries) == len(SEEDS)
    for s in summaries:
        assert s.routes > 0
        assert s.max_grade <= 0.101, s.name  # ramps are drawn at 6-10 % (and vertices rounded to 1 cm)


def test_random_buckets_load_every_truck_class(docs: dict[int, dict[str, Any]]) -> None:
    for seed, doc in docs.items():
        mine = parse_map(json.loads(dumps_map(doc)), f"mine-{seed}")
        assert all(loadable(tc.payload_t, s.pass_t) for s in mine.shovels for tc in CLASSES), seed


def test_random_mines_vary(summaries: list[MapSummary]) -> None:
    shovels = [s.shovels for s in summaries]
    road_km = [s.road_km for s in summaries]
    sinks = [s.sinks for s in summaries]
    assert min(shovels) == 2 and max(shovels) >= 7
    assert max(road_km) > 3 * min(road_km)
    assert min(sinks) == 1 and max(sinks) == 4
    with_areas = sum(s.loading_areas > 0 for s in summaries)
    assert 0 < with_areas < len(summaries)
    single_lane = sum(s.single_lane_sections > 0 for s in summaries)
    assert 0 < single_lane < len(summaries)
    assert sum(s.materials == ("coal", "waste") for s in summaries) > len(summaries) / 2
    kinds = {isinstance(random_params(seed), OpenPitParams) for seed in SEEDS}
    assert kinds == {True, False}  # open pits and strip mines


def test_crushers_accept_coal_only(docs: dict[int, dict[str, Any]]) -> None:
    for seed, doc in docs.items():
        crushers = [f for f in doc["features"] if f["properties"]["kind"] == "crusher"]
        assert all(f["properties"]["accepts"] == ["coal"] for f in crushers), seed


def test_same_seed_same_document() -> None:
    assert dumps_map(random_mine(11)) == dumps_map(random_mine(11))
    assert dumps_map(random_mine(11)) != dumps_map(random_mine(12))


def test_a_crossing_without_a_junction_is_refused() -> None:
    """The loader takes such a crossing for an overpass; the generator draws none, so it is its mistake."""
    doc = collection([
        road("R1", [[0, 0, 0], [1000, 0, 0]]),
        road("R2", [[500, -500, 0], [500, 500, 0]]),
        point("shovel", "S1", [0, 0, 0]),
        point("dump", "D1", [1000, 0, 0]),
        point("shovel", "S2", [500, 500, 0]),
        point("dump", "D2", [500, -500, 0]),
        point("park", "P1", [900, 0, 0]),
    ])
    mine = parse_map(doc, "crossing")
    RouteTable(mine, build_network(mine), CLASSES)  # the loader takes it for an overpass
    with pytest.raises(InputError, match=r"crosses road R2 at \(500\.0, 0\.0\) without a junction"):
        check_map(doc, "crossing")


@pytest.mark.parametrize("seed", [0, 5, 7])  # a single-lane strip, a strip with a loading area, an open pit
def test_a_random_mine_runs_a_short_shift(seed: int, tmp_path: Path) -> None:
    map_path = tmp_path / "mine.geojson"
    map_path.write_text(dumps_map(random_mine(seed)), encoding="utf-8")
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(f'[scenario]\nmap = "{map_path}"\nhours = 0.3\n\n[fleet]\ncount = 6\n'
                        'truck_class = "cat-797f"\n', encoding="utf-8")
    run = build_run(load_scenario(scenario))
    try:
        run.sim.run(1080.0)
        assert (run.sim.fleet.odometer_m > 100.0).all()
        loads = {fid for _, _, event, fid, _ in run.sim.log if event == "arrive"}
        assert loads & {p.id for p in run.site.mine.load_points()}
    finally:
        run.close()


def test_cli_writes_random_mines_and_checks_the_shipped_ones(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["random", "--seed", "3", "--count", "2", "--out", str(tmp_path)]) == 0
    written = sorted(tmp_path.glob("*.geojson"))
    assert len(written) == 2
    for path in written:
        load_map(path)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all("km of road" in line for line in lines)
    assert main(["shipped", "--check"]) == 0
