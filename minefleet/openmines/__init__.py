"""``minefleet import openmines``: translate an OpenMines scenario file into minefleet's own map, scenario and trucks.

OpenMines (github.com/370025263/openmines) describes a mine as sites and a distance table: load sites with
shovels, dump sites with dumpers, one charging site with the truck fleet, and matrices of road distances between
them (load to dump, dump to load, charging site to load). A planner who has a mine in that form should be able to
run it here without drawing roads, so this package writes a *matrix map* (every road a direct link of the tabled
length, ``fleet.matrix``), a scenario and one truck class per OpenMines truck type. It only translates: every
figure it cannot take from the file is an assumption written into the output with its reason, and everything the
file says that minefleet cannot honour is listed in the report (and in docs/openmines.md).

Units of the OpenMines format, as its simulator uses them: distances in km, truck speed in km/h (one speed, loaded
and empty), shovel ``tons`` per bucket pass and ``cycle_time`` in minutes per pass (a truck's load time is
capacity / tons x cycle_time), dumper ``cycle_time`` in minutes per truck, ``sim_time`` in minutes. Both road
matrices are indexed [load site][dump site]: ``d2l_road_matrix[i][j]`` is the way from dump site j back to load
site i. Site positions only draw the mine (any unit); they are scaled to metres here.

Nothing is written unless the whole file checks out, and nothing is overwritten that this command did not write
(a manifest in the output directory lists what it wrote, with checksums).

The steps, one module each: ``reader`` (the file, checked), ``plan`` (the texts to write), ``output`` (writing them).
"""

from __future__ import annotations

from pathlib import Path

from minefleet.openmines.output import MANIFEST, _check_out_dir, _write
from minefleet.openmines.plan import Plan
from minefleet.openmines.reader import parse, read

__all__ = ["MANIFEST", "import_openmines"]


def import_openmines(path: str | Path, out_dir: str | Path, *, failures: bool = True) -> list[str]:
    """Check ``path``, write map, scenario and truck classes into ``out_dir``; the report, one line per fact.

    ``failures`` switches on OpenMines' built-in truck breakdowns and shovel maintenance in the scenario."""
    path, out = Path(path), Path(out_dir)
    mine = parse(read(path), str(path))
    plan = Plan(mine, failures)
    files = plan.files()
    previous = _check_out_dir(out)
    _write(out, files, previous, mine.file)
    written = ", ".join(str(out / name) for name in files)
    return [plan.summary(), f"wrote {written}", *plan.notes]
