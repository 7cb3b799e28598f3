"""The heads-up display: clock and speed, shift KPIs, the t/h sparkline, the state legend, the scale bar.

KPIs are shown as the snapshot carries them: a key that is missing is not shown, and whatever is not a
production or safety figure (inference and link timings) comes from emulation and is labelled so.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pygame

from fleet.snapshot import Snapshot
from view import palette as P
from view.palette import Colour, TextCache
from view.series import KpiSeries

PRODUCTION = (("tonnes", "tonnes", "{:,.0f} t"), ("tonnes_per_hour", "shift rate", "{:,.0f} t/h"),
              ("loads", "loads", "{:,d}"), ("queue_shovels", "waiting at shovels", "{:d}"),
              ("queue_dumps", "waiting at dumps", "{:d}"))
SAFETY = (("collisions", "collisions", "{:d}"), ("near_misses", "near misses", "{:d}"),
          ("estops", "e-stops", "{:d}"), ("holds", "holds", "{:d}"))
EMULATED_TITLE = "edge + link (emulated)"
PAD = 10  # [px] inside panels
ROW_H = 19  # [px]
STATUS_W = 250  # [px] width of the left column
SPARK_H = 54  # [px]


def clock(t: float) -> str:
    """Simulation time as hh:mm:ss."""
    s = int(t)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _number(v: float | int) -> str:
    if isinstance(v, int | np.integer):
        return f"{int(v):,d}"
    a = abs(float(v))
    return f"{v:,.0f}" if a >= 100 else f"{v:.1f}" if a >= 10 else f"{v:.2f}" if a >= 0.01 or a == 0 else f"{v:.2g}"


def _label(key: str) -> tuple[str, str]:
    """A KPI key as label and unit: ``link_dl_latency_p99_ms`` -> ('link dl latency p99', 'ms')."""
    for suffix, unit in (("_ms", "ms"), ("_s", "s"), ("_pct", "%"), ("_kmh", "km/h"), ("_m", "m")):
        if key.endswith(suffix):
            return key[: -len(suffix)].replace("_", " ").replace(".", " "), unit
    return key.replace("_", " ").replace(".", " "), ""


def kpi_sections(kpis: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """(title, [(label, value)]) for the KPIs present; numbers only, ``None`` meaning 'not measured yet'."""
    known = {k for k, _, _ in (*PRODUCTION, *SAFETY)}
    sections = []
    for title, table in (("production", PRODUCTION), ("safety", SAFETY)):
        rows = [(label, fmt.format(int(kpis[k]) if "d}" in fmt else kpis[k])) for k, label, fmt in table
                if isinstance(kpis.get(k), int | float | np.number)]
        if rows:
            sections.append((title, rows))
    flat: list[tuple[str, Any]] = []
    for k, v in kpis.items():
        if k in known:
            continue
        if isinstance(v, dict):
            flat += [(f"{k}.{k2}", v2) for k2, v2 in v.items()]
        else:
            flat.append((k, v))
    rows = []
    for k, v in flat:
        if isinstance(v, int | float | np.number) and not isinstance(v, bool) and math.isfinite(v):
            label, unit = _label(k)
            rows.append((label, f"{_number(v)} {unit}".rstrip()))
    if rows:
        sections.append((EMULATED_TITLE, rows))
    return sections


class Hud:
    """Draws the panels and remembers where they are (``rects``), so clicks and tests know what is covered."""

    def __init__(self, text: TextCache) -> None:
        self.text = text
        self.rects: list[pygame.Rect] = []
        self._backs: dict[tuple[int, int], pygame.Surface] = {}
        self._gradient: tuple[Any, pygame.Surface] | None = None  # heat legend bar, made once per range

    def panel(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        """A translucent backing; one surface per size, reused across frames."""
        back = self._backs.get(rect.size)
        if back is None:
            if len(self._backs) > 64:
                self._backs.clear()
            back = pygame.Surface(rect.size, pygame.SRCALPHA)
            back.fill(P.PANEL_BG)
            self._backs[rect.size] = back
        surface.blit(back, rect.topleft)
        self.rects.append(rect)

    def put(self, surface: pygame.Surface, text: str, pos: tuple[float, float], colour: Colour = P.HUD_TEXT,
            font: str = "normal", right: bool = False) -> int:
        label = self.text.render(text, colour, font)
        x = pos[0] - label.get_width() if right else pos[0]
        surface.blit(label, (x, pos[1]))
        return label.get_width()

    def status(self, surface: pygame.Surface, snap: Snapshot, header: list[tuple[str, Colour]],
               series: KpiSeries, colours: np.ndarray) -> None:
        """The left column: site, clock, speed and mode lines, KPI sections, sparkline, state legend."""
        sections = kpi_sections(snap.kpis)
        rows = 2 + len(header) + sum(1 + len(r) for _, r in sections) + 1 + len(snap.state_names)
        rect = pygame.Rect(PAD, PAD, STATUS_W, PAD * 2 + rows * ROW_H + SPARK_H + 2 * ROW_H)
        self.panel(surface, rect)
        x, y, right = rect.x + PAD, rect.y + PAD, rect.right - PAD
        self.put(surface, snap.site, (x, y), P.HUD_TITLE, "bold")
        self.put(surface, "H: keys", (right, y + 2), P.HUD_DIM, "small", right=True)
        y += ROW_H
        self.put(surface, clock(snap.t), (x, y), P.HUD_TEXT, "large")
        y += ROW_H + 6
        for line, colour in header:
            self.put(surface, line, (x, y), colour, "small")
            y += ROW_H
        for title, items in sections:
            colour = P.HUD_EMULATED if title == EMULATED_TITLE else P.HUD_TITLE
            self.put(surface, title.upper(), (x, y + 2), colour, "small")
            y += ROW_H
            for label, value in items:
                self.put(surface, label, (x + 6, y), P.HUD_DIM, "small")
                self.put(surface, value, (right, y), P.HUD_TEXT, "small", right=True)
                y += ROW_H
        self.sparkline(surface, pygame.Rect(x, y + 4, STATUS_W - 2 * PAD, SPARK_H + ROW_H), series)
        self.legend(surface, snap, colours, x, right, y + SPARK_H + 2 * ROW_H)

    def sparkline(self, surface: pygame.Surface, rect: pygame.Rect, series: KpiSeries) -> None:
        t, rate = series.rates()
        caption = f"t/h, last {series.window_s / 60:.0f} min"
        if len(rate):
            caption += f": {rate[-1]:,.0f} (peak {rate.max():,.0f})"
        self.put(surface, caption, rect.topleft, P.HUD_DIM, "small")
        box = pygame.Rect(rect.x, rect.y + ROW_H, rect.width, rect.height - ROW_H)
        pygame.draw.line(surface, P.SPARK_AXIS, box.bottomleft, box.bottomright)
        if len(rate) < 2 or t[-1] <= t[0]:
            return
        top = max(rate.max(), 1.0)
        xs = box.x + (t - t[0]) / (t[-1] - t[0]) * (box.width - 1)
        ys = box.bottom - 1 - rate / top * (box.height - 2)
        pygame.draw.lines(surface, P.SPARK_LINE, False, np.stack([xs, ys], axis=-1).tolist(), 2)

    def legend(self, surface: pygame.Surface, snap: Snapshot, colours: np.ndarray, x: int, right: int,
               y: int) -> None:
        """Each state's colour and how many trucks are in it now."""
        counts = np.bincount(snap.trucks.state.astype(np.int64), minlength=len(snap.state_names))
        self.put(surface, f"TRUCKS ({len(snap.trucks.ids)})", (x, y + 2), P.HUD_TITLE, "small")
        y += ROW_H
        for code, name in enumerate(snap.state_names):
            colour = tuple(int(c) for c in colours[code])
            pygame.draw.rect(surface, colour, pygame.Rect(x + 6, y + 2, 14, 10))
            self.put(surface, name.lower().replace("_", " "), (x + 28, y), P.HUD_TEXT, "small")
            self.put(surface, str(int(counts[code])), (right, y), P.HUD_TEXT, "small", right=True)
            y += ROW_H

    def scale_bar(self, surface: pygame.Surface, scale: float) -> None:
        """Bottom-right: a bar of a round length [m] about 120 px long."""
        target = 120 / scale  # [m]
        nice = 10 ** math.floor(math.log10(target))
        length_m = max(m * nice for m in (1, 2, 5) if m * nice <= target)
        px = length_m * scale
        x1, y = surface.get_width() - PAD - 8, surface.get_height() - PAD - 34
        pygame.draw.line(surface, P.SCALE_BAR, (x1 - px, y), (x1, y), 2)
        for x in (x1 - px, x1):
            pygame.draw.line(surface, P.SCALE_BAR, (x, y - 5), (x, y + 5), 2)
        label = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
        self.put(surface, label, (x1 - px / 2 - 14, y - 20), P.SCALE_BAR, "small")

    def heat_legend(self, surface: pygame.Surface, range_db: tuple[float, float]) -> None:
        """Bottom-right, above the scale bar: the coverage colours and the SINR they stand for [dB]."""
        rect = pygame.Rect(0, 0, 200, 46)
        rect.bottomright = (surface.get_width() - PAD, surface.get_height() - PAD - 62)
        self.panel(surface, rect)
        bar = pygame.Rect(rect.x + PAD, rect.y + 24, rect.width - 2 * PAD, 10)
        if self._gradient is None or self._gradient[0] != (range_db, bar.size):
            f = np.linspace(range_db[0], range_db[1], bar.width)
            rgb = np.repeat(P.heat_rgba(f, *range_db)[:, None, :3], bar.height, axis=1)  # [w, h, 3]
            self._gradient = ((range_db, bar.size), pygame.surfarray.make_surface(rgb))
        surface.blit(self._gradient[1], bar.topleft)
        lo, hi = (round(v) + 0 for v in range_db)  # "+ 0" turns -0 into 0
        self.put(surface, f"SINR {lo} .. {hi} dB (coverage)", (rect.x + PAD, rect.y + 5),
                 P.HUD_TEXT, "small")

    def slider(self, surface: pygame.Surface, rect: pygame.Rect, t: float, start: float, end: float) -> None:
        """The replay time bar: track, elapsed part, knob, and the times at both ends."""
        self.rects.append(rect.inflate(0, 12))
        pygame.draw.rect(surface, P.SLIDER_TRACK, rect, border_radius=4)
        f = (t - start) / (end - start) if end > start else 1.0
        done = rect.copy()
        done.width = round(rect.width * min(max(f, 0.0), 1.0))
        pygame.draw.rect(surface, P.SLIDER_FILL, done, border_radius=4)
        pygame.draw.circle(surface, P.SLIDER_KNOB, (done.right, rect.centery), rect.height)
        self.put(surface, clock(start), (rect.x, rect.y - 18), P.HUD_DIM, "small")
        self.put(surface, clock(end), (rect.right, rect.y - 18), P.HUD_DIM, "small", right=True)
