"""The exact parameters of the three shipped maps (``maps/*.geojson``); where their figures come from: SOURCES.md.

Kept apart from the kind modules so a change to a builder shows up as a diff of a shipped map (the generator's
tests rebuild all three and compare them byte for byte) and a change to a shipped map is a change here only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from maps.generator import open_pit, strip_mine, tutorial
from maps.generator.features import GnbSite, MapMeta, Sink, Unit, Zone
from maps.generator.open_pit import OpenPitParams, PitShovel, RampZone, RimCrusher, RimDump, RimPark
from maps.generator.pit import PitShape
from maps.generator.strip_mine import StripDump, StripParams, StripShovel
from maps.generator.tutorial import TutorialParams

MAPS_DIR = Path(__file__).resolve().parent.parent

TUTORIAL = TutorialParams(
    meta=MapMeta(
        site="tutorial",
        name="Tutorial: one road, one shovel, one dump",
        description="A flat straight 2 km haul road at 1000 m: shovel at the west end, dump at the east end, "
        "trucks parked 100 m short of the dump. One truck's cycle can be worked out by hand: "
        "a 60 t bucket at 30 s a pass (a 363 t truck takes 6 passes) + 30 s spotting, 2 km each way at "
        "<= 40 km/h, 60 s tipping.",
        rolling_resistance=0.02,
        sources=("None: a hand-made teaching map. Every figure is a round assumption (see maps/SOURCES.md).",),
    ),
    z=1000.0, length_m=2000, speed_kmh=40, width_m=30, material="coal", unit=Unit(bucket_t=60, cycle_s=30),
    dump=Sink(id="dump-1", dump_s=60, bays=1, accepts=("coal",)),
    park_x=1900,  # on the road's interior: the loader splits road-1 there (T-junction)
    gnb=GnbSite(id="gnb-1", xyz=(1000, 100, 1000.0), height_m=30),
)

SOURCES_OPEN_PIT = (
    "Haerwusu surface coal mine (Zhungeer coalfield): surface boundary 9.59 km E-W x 7.03 km "
    "N-S, 67.17 km2, design output 20 Mt/a, main No. 6 seam 20.01 m thick on average - China "
    "National Radio report of 19 Oct 2008; same figures in Xinhua's report as summarised at "
    "http://asiam.co.jp/news/detail.php?id=1874",
    "Heidaigou surface coal mine: 'standard 15 m bench' (45 m cast-blast benches), 15 Mt/a "
    "rising to 20 Mt/a - Orica, 'Zhunger Heidaigou Mine Cast Blasting', Beijing, 25 May 2012, "
    "https://sambuz.com/doc/cast-blasting-ppt-presentation-616542",
    "Zhungeer complex (Heidaigou and Haerwusu): truck-and-shovel and dragline, No. 6 seam "
    "20-30 m thick at Heidaigou - https://miningdataonline.com/property/954/Zhunge%E2%80%99er-Complex.aspx",
    "Ramp grade 8 % (North America) to 10 % (Australia); two-way haul road at least 3.5 x "
    "truck width on straights, 4 x on corners - Deswik white paper 'Guidelines and "
    "considerations for open pit designers', https://www.deswik.com/es-cl/whitepapers/"
    "guidelines-and-considerations-for-open-pit-designers (summary: "
    "https://www.zvenia.com/post/recommendation-on-op-hauling-ramp)",
    "Operators' practice: 30 m road width and 8 % maximum ramp grade (10 % temporarily); 35 m "
    "minimum running surface - Alberta Mine Safety Association Q&A 'Haul Road Design', "
    "https://app.abminesafety.ca/member-q/c/0/i/92316523/haul-road-design",
    "A mine haul road network is typically 10-40 km long - Thompson & Visser, 'Mine haul road "
    "maintenance management systems', J. SAIMM, June 2003, p. 303",
    "Yimin open-pit coal mine (Hulunbuir): 35 Mt/a; 100 autonomous 90 t trucks on 5G-A, fastest "
    "operating speed 50 km/h - https://www.mining-technology.com/sponsored/"
    "minings-next-shift-expanding-business-with-autonomous-fleets ; Xinhua, 30 May 2025, "
    "https://nabkanews.com/worlds-largest-fleet-of-driverless-mining-trucks-operate-in-north-china-xinhua",
    "Rolling resistance: ~3 % for most haul roads, 4-5 % accepted in pit (UAF course notes, "
    "http://ffden-2.phys.uaf.edu/webproj/212_spring_2017/Ethan_Trickey/Ethan_Trickey/"
    "Page%203.html); "
    "0.034 measured on ramps for Komatsu 830E at Salobo (Menezes & Navarro Torres, 'Influence "
    "of mine road grade and rolling resistance on haulage productivity and costs')",
    "Assumptions (no public figure found): pit 4.0 x 2.2 km at the crest and 180 m deep, crest "
    "at 1200 m asl, 63 m working benches, 9 % main ramps, dump heights, shovel buckets and "
    "cycle times, crusher capacity, gNB sites and powers, hazard rates - see maps/SOURCES.md",
)

SOURCES_STRIP = (
    "North Antelope Rochelle (Powder River Basin): Wyodak-Anderson seam 60-80 ft thick, 100-400 "
    "ft below surface, three pits, coal hauled by truck to hoppers and crushed - Peabody fact "
    "sheet, http://www.peabodyenergy.com/content/274/media-center/fact-sheets/north-antelope-rochelle-mine",
    "Huolinhe coalfield (Inner Mongolia): 60 km long, 9 km wide, flat-lying lignite - "
    "http://lvli.com/jd/neimenggu/tl94/hlglsh639/23775.html",
    "New Horizon strip mine (Colorado): panels approaching 2,200 ft long, pit bottom 100-120 ft "
    "wide - Colorado DRMS permit text, https://dnrweblink.state.co.us/DRMSSearch/0/doc/963661/Page2.aspx",
    "Ramp grade 8 % (North America) to 10 % (Australia); two-way haul road at least 3.5 x truck "
    "width - Deswik white paper 'Guidelines and considerations for open pit designers', "
    "https://www.deswik.com/es-cl/whitepapers/guidelines-and-considerations-for-open-pit-designers",
    "Assumptions (no public figure found): strip length 7 km and depth 45 m, single-lane "
    "sections of ~880 m with 120 m passing bays, 15 m single-lane width, shovel, crusher and "
    "dump figures, gNB sites, hazard rates - see maps/SOURCES.md",
)


def _pit_gnb(fid: str, x: float, y: float, z: float = 1200.0) -> GnbSite:
    """A 30 m mast (46 dBm, n78), on the plateau unless z says otherwise."""
    return GnbSite(id=fid, xyz=(x, y, z), height_m=30)


# A hydraulic face shovel on the upper waste bench; rope shovels below; coal shovels on bench 11 and the bottom.
OPEN_PIT_COAL = OpenPitParams(
    meta=MapMeta(
        site="open-pit-coal",
        name="Open-pit coal mine (Zhungeer-style)",
        description="Modelled on the large open-pit coal mines of the Zhungeer coalfield, Inner Mongolia "
        "(Haerwusu, Heidaigou): a 4.0 x 2.2 km pit at the crest (1200 m), 12 benches of 15 m "
        "(pit bottom 1020 m, 180 m deep), waste benches above the coal seam at the bottom. Two "
        "9 % main ramps (north and south walls) join a rim road; bench 9 and bench 11 are loops "
        "between both ramps. Three waste shovels, two coal shovels, two ex-pit waste dumps "
        "(30 m high, 8 % access), a coal crusher with a ROM stockpile beside it, a truck park, "
        "six n78 gNB sites (four around the crest, so deep benches under a site's own wall are "
        "shadowed by the pit walls).",
        rolling_resistance=0.025,
        sources=SOURCES_OPEN_PIT,
    ),
    shape=PitShape(rim_z=1200.0, bench_h=15.0, levels=12, step=70.0, face_w=7.0, rim_hx=2000.0, rim_hy=1100.0,
                   corner_r=150.0, ramp_grade=0.09, ramp_x0=1500.0, ramp_width=35.0, rim_road_offset=60.0,
                   floor_x=450.0),
    shovels=(
        PitShovel(id="shovel-w03", bench=3, material="waste", units=(Unit(bucket_t=50, cycle_s=28),), wall="w",
                  along=200.0, access="n"),
        PitShovel(id="shovel-w06", bench=6, material="waste", units=(Unit(bucket_t=75, cycle_s=32),), wall="e",
                  along=-250.0, access="s"),
        PitShovel(id="shovel-w09", bench=9, material="waste", units=(Unit(bucket_t=75, cycle_s=32),), wall="e",
                  toe_m=10.0, access="loop"),
        PitShovel(id="shovel-c11", bench=11, material="coal", units=(Unit(bucket_t=60, cycle_s=30),), wall="w",
                  toe_m=10.0, access="loop"),
        PitShovel(id="shovel-c12", bench=12, material="coal", units=(Unit(bucket_t=60, cycle_s=30),), along=1000.0),
    ),
    dumps=(
        RimDump(sink=Sink(id="dump-north", dump_s=60, bays=4, accepts=("waste",)), side="n", at=0.0, flat_m=140.0,
                lift_m=30.0, top_m=225.0, half_along=200, half_across=700),
        RimDump(sink=Sink(id="dump-east", dump_s=60, bays=3, accepts=("waste",)), side="e", at=-200.0,
                flat_m=140.0, lift_m=30.0, top_m=225.0, half_along=200, half_across=500),
        RimDump(sink=Sink(id="dump-rom", dump_s=45, bays=2, accepts=("coal",)), side="w", at=-700.0, flat_m=390.0,
                half_along=150, half_across=150, road_prefix="rom", access_kmh=30, width_m=30),
    ),
    crusher=RimCrusher(sink=Sink(id="crusher-1", dump_s=50, bays=1, accepts=("coal",), capacity_tph=4000),
                       side="s", at=-1400.0),
    park=RimPark(id="park-main", side="s", at=0.0, distance_m=290.0),
    # Four on the plateau around the crest (each sees the far walls but not the foot of its own wall), one on
    # the north dump, one at the crusher.
    gnbs=(_pit_gnb("gnb-rim-n", 800.0, 1240.0), _pit_gnb("gnb-rim-s", 700.0, -1240.0),
          _pit_gnb("gnb-rim-e", 2140.0, 600.0), _pit_gnb("gnb-rim-w", -2140.0, 300.0),
          _pit_gnb("gnb-dump-n", -500.0, 1950.0, 1230.0), _pit_gnb("gnb-crusher", -1100.0, -1560.0)),
    hazards=(
        RampZone(id="hz-ramp-n-spill", side="n", bench_from=4, bench_to=6, kinds=("spillage",), rate_per_h=0.5),
        RampZone(id="hz-ramp-s-spill", side="s", bench_from=2, bench_to=4, kinds=("spillage",), rate_per_h=0.3),
        Zone(id="hz-floor-coal", box=(800, -100, 1150, 100), kinds=("spillage", "person"), rate_per_h=0.4,
             level=12),
        Zone(id="hz-bench-1065", box=(1361.5, -250, 1441.5, 250), kinds=("person",), rate_per_h=0.2, level=9),
        Zone(id="hz-park", box=(-250, -1520, 250, -1100), kinds=("light_vehicle", "person"), rate_per_h=2.0),
        Zone(id="hz-crusher", box=(-1650, -1530, -1150, -1380), kinds=("light_vehicle",), rate_per_h=0.5),
    ),
)


def _strip_shovel(fid: str, bay: int, material: str) -> StripShovel:
    """A strip shovel: 30 s a pass, 30 s spotting; the bucket by material."""
    bucket = 60 if material == "coal" else 50  # coal shovels 60 t x 4, the parting (waste) shovel 50 t x 6
    return StripShovel(id=fid, bay=bay, material=material, units=(Unit(bucket_t=bucket, cycle_s=30),))


STRIP_MINE = StripParams(
    meta=MapMeta(
        site="strip-mine",
        name="Strip mine (single-lane haul road with passing bays)",
        description="A 7 km long, 45 m deep strip in flat-lying coal: the haul road runs on the coal along "
        "the strip as single-lane sections (~880 m) joined by 120 m two-lane passing bays, so "
        "loaded and empty trucks must wait for each other at the bays. Three coal shovels and "
        "one parting (waste) shovel load off the bays; coal goes up the west ramp to a crusher, "
        "waste up the east ramp to a 15 m dump. Three gNB trailers stand behind the highwall "
        "crest.",
        rolling_resistance=0.03,
        sources=SOURCES_STRIP,
    ),
    surface_z=960.0, length_m=7000.0, floor_w_z=915.0, floor_e_z=910.0,
    bays=(1000.0, 2000.0, 3000.0, 4000.0, 5000.0, 6000.0), bay_half=60.0, ramp_grade=0.08, ramp_step_m=37.5,
    shovel_offset_y=70.0, single_lane=True,
    shovels=(_strip_shovel("shovel-c2", 2, "coal"), _strip_shovel("shovel-c4", 4, "coal"),
             _strip_shovel("shovel-w5", 5, "waste"), _strip_shovel("shovel-c6", 6, "coal")),
    west_surface_m=240.0,
    crusher=Sink(id="crusher-west", dump_s=50, bays=1, accepts=("coal",), capacity_tph=3000), crusher_m=300.0,
    park_y=250.0,
    dump=StripDump(sink=Sink(id="dump-east", dump_s=60, bays=3, accepts=("waste",)), lift_m=15.0, grade=0.08,
                   flat_m=125.0, top_m=212.5, half_x=200, half_y=300),
    ridge_h=15.0,
    # gNB trailers stand right behind the highwall crest, so they see down onto the floor.
    gnbs=tuple(GnbSite(id=f"gnb-{n}", xyz=(x, 150.0, 960.0), height_m=25)
               for n, x in enumerate((1000.0, 3500.0, 6000.0), start=1)),
    hazards=(
        Zone(id="hz-shovel-c4", box=(3900, -30, 4100, 100), kinds=("spillage",), rate_per_h=0.5, level=1),
        Zone(id="hz-strip-lane-3", box=(2400, -30, 2600, 30), kinds=("light_vehicle",), rate_per_h=0.3, level=1),
        Zone(id="hz-west-surface", box=(-1152.5, -60, -562.5, 300), kinds=("light_vehicle", "person"),
             rate_per_h=1.5),  # from 50 m west of the crusher to the west ramp's head
    ),
)

SHIPPED: dict[str, Callable[[], dict[str, Any]]] = {
    "tutorial": lambda: tutorial.build(TUTORIAL),
    "open_pit_coal": lambda: open_pit.build(OPEN_PIT_COAL),
    "strip_mine": lambda: strip_mine.build(STRIP_MINE),
}


def shipped_maps() -> dict[str, dict[str, Any]]:
    """The three shipped map documents by file stem (``maps/<stem>.geojson``)."""
    return {stem: build() for stem, build in SHIPPED.items()}
