"""The demo in a real X window (Xvfb): it starts, runs 10 s of wall time, saves a screenshot, exits 0."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pygame
import pytest
from conftest import REPO


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="Debian's xvfb is not installed (.ci/run installs it)")
def test_demo_in_a_real_window_under_xvfb(tmp_path):
    shot = tmp_path / "demo.png"
    env = {k: v for k, v in os.environ.items() if k != "SDL_VIDEODRIVER"}
    env["SDL_VIDEODRIVER"] = "x11"
    proc = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", sys.executable, "-m", "minefleet.cli",
                           "demo", "--max-wall", "10", "--screenshot", str(shot)],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    image = pygame.image.load(str(shot))
    assert image.get_size() == (1280, 800)
    # Not a blank frame: the map and HUD put many distinct colours on screen.
    colours = {tuple(image.get_at((x, y)))[:3] for x in range(0, 1280, 16) for y in range(0, 800, 16)}
    assert len(colours) > 20
