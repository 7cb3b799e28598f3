"""The selected truck's panel (edge and link view of one truck), the help overlay and the message line."""

from __future__ import annotations

import math

import numpy as np
import pygame

from fleet.snapshot import Snapshot
from view import palette as P
from view.hud import PAD, ROW_H, Hud
from view.overlays import paint_fan

PANEL_W = 290  # [px]
FAN_PX = 84  # [px] radius of the panel's perception fan (forward is up, at every zoom)


def truck_rows(snap: Snapshot, i: int) -> list[tuple[str, str]]:
    """(label, value) lines describing truck ``i``; perception lines only when the truck has perception."""
    t = snap.trucks
    code = int(t.state[i])
    state = snap.state_names[code] if 0 <= code < len(snap.state_names) else str(code)
    safe = float(t.safe_speed_mps[i])
    rows = [("state", state.lower().replace("_", " ")),
            ("speed", f"{t.speed_mps[i] * 3.6:.0f} km/h"),
            ("safe speed", f"{safe * 3.6:.0f} km/h" if math.isfinite(safe) else "no limit"),
            ("payload", f"{t.payload_t[i]:.0f} / {t.capacity_t[i]:.0f} t" if t.capacity_t[i] > 0
             else f"{t.payload_t[i]:.0f} t"),
            ("destination", t.dest[i] or "-")]
    if t.model[i]:
        rows.append(("perception model", t.model[i]))
    sectors = snap.detections.get("sectors")
    if sectors is not None and i < len(sectors):
        hits = sectors[i, :, 0] >= P.DETECT_THRESHOLD
        reach = float(snap.detections["max_range_m"])
        if hits.any():
            nearest = float(sectors[i, hits, 1].min()) * reach
            rows.append(("detections", f"{int(hits.sum())} of {len(hits)} sectors, nearest {nearest:.0f} m"))
        else:
            rows.append(("detections", f"clear to {reach:.0f} m"))
    rows += [(label, values[i]) for label, values in snap.truck_info.items() if i < len(values)]
    return rows


def draw_truck_panel(surface: pygame.Surface, hud: Hud, snap: Snapshot, i: int, colours: np.ndarray,
                     following: bool) -> None:
    """Top-right: the truck's id and state colour, its figures, and its latest sector output as a fan."""
    rows = truck_rows(snap, i)
    sectors = snap.detections.get("sectors")
    fan = sectors is not None and i < len(sectors)
    rect = pygame.Rect(0, PAD, PANEL_W, PAD * 2 + (len(rows) + 1) * ROW_H + (FAN_PX + 30 if fan else 0))
    rect.right = surface.get_width() - PAD
    hud.panel(surface, rect)
    x, y, right = rect.x + PAD, rect.y + PAD, rect.right - PAD
    code = int(np.clip(snap.trucks.state[i], 0, len(colours) - 1))
    pygame.draw.rect(surface, tuple(int(c) for c in colours[code]), pygame.Rect(x, y + 3, 16, 12))
    hud.put(surface, snap.trucks.ids[i], (x + 24, y), P.HUD_TITLE, "bold")
    if following:
        hud.put(surface, "following", (right, y), P.HUD_DIM, "small", right=True)
    y += ROW_H
    for label, value in rows:
        hud.put(surface, label, (x, y), P.HUD_DIM, "small")
        hud.put(surface, value, (right, y), P.HUD_TEXT, "small", right=True)
        y += ROW_H
    if fan:
        assert sectors is not None
        fov = math.radians(float(snap.detections["fov_deg"]))
        centre = (rect.centerx, y + FAN_PX + 8)
        layer = pygame.Surface(rect.size, pygame.SRCALPHA)
        paint_fan(layer, (centre[0] - rect.x, centre[1] - rect.y), FAN_PX, math.pi / 2, fov, sectors[i])
        surface.blit(layer, rect.topleft)
        hud.put(surface, f"range {float(snap.detections['max_range_m']):.0f} m", (x, y + 4), P.HUD_DIM, "small")


def draw_help(surface: pygame.Surface, hud: Hud, rows: list[tuple[str, str]]) -> None:
    """Centre of the screen: every key and what it does."""
    rect = pygame.Rect(0, 0, 470, PAD * 2 + (len(rows) + 1) * ROW_H + 6)
    rect.center = surface.get_rect().center
    hud.panel(surface, rect)
    x, y = rect.x + PAD * 2, rect.y + PAD
    hud.put(surface, "keys", (x, y), P.HUD_TITLE, "bold")
    y += ROW_H + 6
    for key, what in rows:
        hud.put(surface, key, (x, y), P.HUD_TEXT, "small")
        hud.put(surface, what, (x + 130, y), P.HUD_DIM, "small")
        y += ROW_H


def draw_message(surface: pygame.Surface, hud: Hud, message: str) -> None:
    """A one-line notice above the bottom edge (model swapped, screenshot saved, command refused)."""
    label = hud.text.render(message, P.HUD_TEXT, "normal")
    rect = label.get_rect().inflate(2 * PAD, PAD)
    rect.midbottom = (surface.get_width() // 2, surface.get_height() - 46)
    hud.panel(surface, rect)
    surface.blit(label, (rect.x + PAD, rect.y + PAD // 2))
