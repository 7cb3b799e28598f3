"""`minefleet validate SCENARIO` refuses what `minefleet run` refuses against the map, with the same one line.

Why: validate is how a user checks a scenario before spending a shift on it; a start or event target the map
lacks must not pass validate and only then fail the run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import line_map

from minefleet.cli import main

FLEET = '[fleet]\ncount = 2\ntruck_class = "cat-797f"\n'
GROUPS = '[fleet]\n[[fleet.groups]]\ncount = 2\ntruck_class = "cat-797f"\n'


def _scenario(write_scenario: Callable[..., Path], map_path: Path, body: str) -> Path:
    return write_scenario(f'[scenario]\nmap = "{map_path}"\nhours = 0.01\n{body}')


def _error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The one line a refused command printed (exit 2, never a traceback)."""
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("minefleet: error: "), err
    return err


@pytest.mark.parametrize(("body", "where", "problem"), [
    (FLEET.replace("count = 2\n", 'count = 2\nstart = "NOWHERE"\n'), "fleet.start", "no park or facility 'NOWHERE'"),
    (GROUPS + 'start = "X9"\n', "fleet.groups[0].start", "no facility 'X9'"),
    (FLEET + '[[events]]\nkind = "down"\ntarget = "S9"\nstart_h = 0.0\nend_h = 1.0\n', "events[0].target",
     "no shovel, loading area, dump or crusher 'S9'"),
    (FLEET + '[[events]]\nkind = "road_closed"\ntarget = "S1"\nstart_h = 0.0\nend_h = 1.0\n', "events[0].target",
     "has no road 'S1'"),
])
def test_validate_refuses_what_run_refuses_against_the_map_with_the_same_line(
        tmp_path: Path, write_map: Callable[..., Path], write_scenario: Callable[..., Path],
        capsys: pytest.CaptureFixture[str], body: str, where: str, problem: str) -> None:
    path = _scenario(write_scenario, write_map(line_map()), body)
    validated = _error(capsys, "validate", str(path))
    assert f"{path}: {where}: " in validated and problem in validated
    ran = _error(capsys, "run", str(path), "--headless", "--quiet", "--out", str(tmp_path / "run"))
    assert ran == validated


def test_validate_accepts_a_start_the_map_has(write_map: Callable[..., Path], write_scenario: Callable[..., Path],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    mine = line_map()
    park = next(f["properties"]["id"] for f in mine["features"] if f["properties"]["kind"] == "park")
    path = _scenario(write_scenario, write_map(mine), FLEET.replace("count = 2\n", f'count = 2\nstart = "{park}"\n'))
    assert main(["validate", str(path)]) == 0
    assert f"{path}: scenario " in capsys.readouterr().out
