"""Key bindings: one table read by the event handler and by the help overlay, so the two never disagree."""

from __future__ import annotations

from dataclasses import dataclass

import pygame


@dataclass(frozen=True)
class Binding:
    keys: tuple[int, ...]
    label: str  # the key as the help overlay shows it
    action: str  # name of the ``App`` action it triggers
    help: str
    replay_only: bool = False


BINDINGS: tuple[Binding, ...] = (
    Binding((pygame.K_SPACE,), "space", "pause", "pause / run"),
    Binding((pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS), "+", "faster", "faster (x1 .. x64)"),
    Binding((pygame.K_MINUS, pygame.K_KP_MINUS), "-", "slower", "slower"),
    Binding((pygame.K_PERIOD, pygame.K_KP_PERIOD), ".", "step", "single step (while paused)"),
    Binding((pygame.K_m,), "M / shift+M", "next_model", "next perception model: selected truck / all trucks"),
    Binding((pygame.K_o,), "O", "overlays", "cycle overlays (trails, dispatch, coverage)"),
    Binding((pygame.K_f,), "F", "follow", "follow the selected truck"),
    Binding((pygame.K_r,), "R", "fit", "fit the whole map"),
    Binding((pygame.K_s,), "S", "screenshot", "screenshot to PNG"),
    Binding((pygame.K_h,), "H", "help", "this help"),
    Binding((pygame.K_LEFTBRACKET,), "[ / ]", "back", "jump 60 s back / forward", replay_only=True),
    Binding((pygame.K_RIGHTBRACKET,), "]", "forward", "", replay_only=True),
    Binding((pygame.K_HOME,), "Home / End", "start", "start / end of the recording", replay_only=True),
    Binding((pygame.K_END,), "End", "end", "", replay_only=True),
    Binding((pygame.K_ESCAPE, pygame.K_q), "Esc / Q", "quit", "quit"),
)
MOUSE_HELP = (("wheel", "zoom about the cursor"), ("drag", "pan"), ("click", "select a truck (again: clear)"))

ACTIONS: dict[int, str] = {key: b.action for b in BINDINGS for key in b.keys}
JUMP_S = 60.0  # [s] replay jump of [ and ]
WHEEL_ZOOM = 1.25  # zoom factor per wheel notch


def help_rows(replay: bool) -> list[tuple[str, str]]:
    """(key, what it does) for the help overlay; replay keys only when a recording is shown."""
    rows = [(b.label, b.help) for b in BINDINGS if b.help and (replay or not b.replay_only)]
    return rows + list(MOUSE_HELP) + ([("slider", "click or drag the time bar to seek")] if replay else [])
