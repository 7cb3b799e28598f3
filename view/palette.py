"""Every colour and font of the view, in one place (as highway-env keeps its vehicle colours).

Colours are plain RGB tuples named for what they show. Fonts and rendered text are made once: ``Fonts`` is
built when the app starts and ``TextCache`` keeps rendered labels, so no frame creates a font or re-renders
a label it has already drawn.
"""

from __future__ import annotations

import numpy as np
import pygame

Colour = tuple[int, int, int]

# -- ground and map ------------------------------------------------------------------------------------
BACKGROUND: Colour = (30, 34, 31)  # outside the mine
PIT_RIM: Colour = (112, 104, 88)  # the pit polygon at the crest
BENCH_HIGH: Colour = (150, 138, 114)  # bench floor at the highest elevation on the map
BENCH_LOW: Colour = (58, 54, 50)  # bench floor at the lowest elevation
WALL_SHADE = 0.72  # a wall is its bench colour times this (faces read darker than floors)
BENCH_EDGE: Colour = (44, 40, 36)
HAZARD_ZONE: Colour = (235, 160, 40)
ROAD_EDGE: Colour = (22, 22, 24)
ROAD: Colour = (196, 188, 166)
ROAD_ONE_WAY: Colour = (176, 170, 190)
ROAD_CENTRE: Colour = (240, 228, 150)  # lane divider
DUMP_FILL: Colour = (104, 86, 66)
DUMP_EDGE: Colour = (200, 170, 120)
CRUSHER: Colour = (150, 162, 180)
PARK: Colour = (84, 112, 150)
GNB: Colour = (196, 110, 255)
MAP_LABEL: Colour = (232, 226, 210)

# -- trucks and facilities ------------------------------------------------------------------------------
STATE_COLOURS: dict[str, Colour] = {  # keyed by ``Snapshot.state_names``
    "WAIT_ORDER": (150, 150, 160),
    "TRAVEL_EMPTY": (70, 170, 255),
    "QUEUE_LOAD": (255, 214, 40),
    "SPOT": (175, 125, 255),
    "LOADING": (40, 220, 110),
    "TRAVEL_LOADED": (255, 130, 30),
    "QUEUE_DUMP": (250, 240, 160),
    "DUMPING": (30, 215, 215),
    "HOLD": (255, 70, 200),
    "ESTOP": (255, 30, 30),
    "DOWN": (120, 60, 40),
}
STATE_UNKNOWN: Colour = (255, 255, 255)
PAYLOAD: Colour = (28, 24, 22)  # material in the truck bed
TRUCK_OUTLINE: Colour = (12, 12, 12)
SELECTED: Colour = (255, 255, 255)
TRUCK_LABEL: Colour = (245, 245, 245)
SHOVEL: Colour = (255, 196, 0)
SHOVEL_ARM: Colour = (60, 50, 20)
SHOVEL_DOWN: Colour = (120, 115, 105)  # out of service
BADGE_OK: Colour = (38, 120, 70)  # queue badge: nobody waiting
BADGE_BUSY: Colour = (170, 120, 20)  # some waiting
BADGE_JAM: Colour = (190, 40, 40)  # at least ``BADGE_JAM_AT`` waiting
BADGE_JAM_AT = 3  # [trucks]
LINK_OUTAGE: Colour = (235, 64, 52)  # cross over a truck whose radio link is down
BADGE_TEXT: Colour = (255, 255, 255)
OBSTACLE_COLOURS: dict[str, Colour] = {  # keyed by hazard kind names of the map format
    "spillage": (160, 90, 40),
    "light_vehicle": (255, 240, 60),
    "person": (255, 60, 160),
}
OBSTACLE_UNKNOWN: Colour = (255, 255, 255)
OBSTACLE_EDGE: Colour = (0, 0, 0)

# -- overlays -------------------------------------------------------------------------------------------
TRAIL_SHADE = 0.55  # a trail is its truck's state colour times this
DISPATCH_EMPTY: Colour = (90, 160, 240)
DISPATCH_LOADED: Colour = (240, 140, 60)
FAN_CLEAR = (80, 220, 120, 55)  # RGBA: sector with nothing detected
FAN_DETECT = (255, 40, 40, 170)  # RGBA: sector with probability 1
FAN_EDGE = (220, 255, 220, 160)
FAN_RANGE_ARC: Colour = (255, 255, 255)  # detected distance in a sector
TRUTH_RING: Colour = (0, 255, 255)  # ground-truth obstacle inside the selected truck's field of view
DETECT_THRESHOLD = 0.5  # sector probability drawn as a detection
HEAT_STOPS: tuple[Colour, ...] = ((48, 18, 120), (30, 110, 200), (40, 190, 140), (230, 220, 60), (250, 120, 40))
HEAT_ALPHA = 96  # [0..255] coverage overlay opacity

# -- HUD ------------------------------------------------------------------------------------------------
PANEL_BG = (10, 12, 16, 200)  # RGBA
HUD_TEXT: Colour = (230, 232, 236)
HUD_DIM: Colour = (150, 156, 166)
HUD_TITLE: Colour = (255, 210, 90)
HUD_WARN: Colour = (255, 90, 90)
HUD_EMULATED: Colour = (160, 200, 255)
SPARK_LINE: Colour = (120, 230, 140)
SPARK_AXIS: Colour = (70, 76, 86)
SLIDER_TRACK: Colour = (70, 76, 86)
SLIDER_FILL: Colour = (90, 170, 255)
SLIDER_KNOB: Colour = (255, 255, 255)
SCALE_BAR: Colour = (230, 232, 236)


def lerp(a: tuple[int, ...], b: tuple[int, ...], f: float) -> tuple[int, ...]:
    """Colour between ``a`` and ``b`` at fraction ``f`` (clamped to [0, 1])."""
    f = min(max(f, 0.0), 1.0)
    return tuple(round(x + (y - x) * f) for x, y in zip(a, b, strict=True))


def shade(c: Colour, k: float) -> Colour:
    return (min(round(c[0] * k), 255), min(round(c[1] * k), 255), min(round(c[2] * k), 255))


def state_table(names: list[str]) -> np.ndarray:
    """``[n_states, 3]`` uint8 colours indexed by state code, for vectorised lookups."""
    return np.array([STATE_COLOURS.get(n, STATE_UNKNOWN) for n in names], dtype=np.uint8)


def heat_rgba(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``values`` mapped through ``HEAT_STOPS`` to uint8 RGBA with ``HEAT_ALPHA``; NaN is transparent."""
    stops = np.array(HEAT_STOPS, dtype=np.float64)
    f = np.clip((values - lo) / max(hi - lo, 1e-9), 0.0, 1.0)
    pos = np.nan_to_num(f) * (len(stops) - 1)
    i = np.minimum(pos.astype(np.int64), len(stops) - 2)
    w = (pos - i)[..., None]
    rgb = stops[i] * (1 - w) + stops[i + 1] * w
    alpha = np.where(np.isfinite(values), HEAT_ALPHA, 0)[..., None]
    return np.concatenate([rgb, alpha], axis=-1).round().astype(np.uint8)


class Fonts:
    """The view's fonts, created once (pygame's default font; a TTF from ``assets/`` can replace it)."""

    def __init__(self, path: str | None = None) -> None:
        if not pygame.font.get_init():
            pygame.font.init()
        self.small = pygame.font.Font(path, 15)
        self.normal = pygame.font.Font(path, 18)
        self.large = pygame.font.Font(path, 24)
        self.bold = pygame.font.Font(path, 18)
        self.bold.set_bold(True)


class TextCache:
    """Rendered labels by (font, text, colour): a label is rendered once, then blitted."""

    def __init__(self, fonts: Fonts, limit: int = 2048) -> None:
        self.fonts = fonts
        self.limit = limit  # entries kept before the cache is emptied (clock digits churn)
        self._cache: dict[tuple[str, str, Colour], pygame.Surface] = {}

    def render(self, text: str, colour: Colour = HUD_TEXT, font: str = "normal") -> pygame.Surface:
        key = (font, text, colour)
        surf = self._cache.get(key)
        if surf is None:
            if len(self._cache) >= self.limit:
                self._cache.clear()
            surf = getattr(self.fonts, font).render(text, True, colour)
            self._cache[key] = surf
        return surf
