"""The geometry of a parametric open pit: bench elevations and centre lines, the two main ramps, the rim road.

Apart from the map builder (``maps.generator.open_pit``) because the random generator needs the same geometry
to place load stops and sites before it has a map to build: where each ramp crosses a bench, how long a side of
the rim road is. The pit is a rounded rectangle (long axis x); bench k's floor is ``step`` m further in than
bench k-1's and ``bench_h`` m lower. The north ramp leaves the crest at x = -ramp_x0 and runs east down the
north wall at ``ramp_grade``, crossing every bench floor on its centre line (where bench roads branch off); the
south ramp is its mirror image through the pit centre. Drawing: pit outline, bench floors and one wall per face
and side (walls block radio line of sight), with the ramps cut out of the faces they cross.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shapely import ops
from shapely.geometry import LineString, Polygon

from maps.generator.features import Feature, polygon
from maps.generator.geometry import XY, XYZ, flat, quadrants, ring_arc, rounded_rect

OUTWARD = {"n": (0.0, 1.0), "s": (0.0, -1.0), "e": (1.0, 0.0), "w": (-1.0, 0.0)}  # away from the pit centre
ALONG = {"n": (1.0, 0.0), "s": (1.0, 0.0), "e": (0.0, 1.0), "w": (0.0, 1.0)}  # the direction of "along" on a side


@dataclass(frozen=True, kw_only=True)
class PitShape:
    """The pit's figures: how big, how deep, how steep."""

    rim_z: float  # [m asl] crest of the pit; the plateau around it
    bench_h: float  # [m]
    levels: int  # benches below the crest; the last is the pit bottom
    step: float  # [m] horizontal inset per bench: working floor + face
    face_w: float  # [m] horizontal footprint of one face
    rim_hx: float  # [m] half sizes of the pit at the crest
    rim_hy: float
    corner_r: float  # [m] corner radius of the crest and every bench outline
    ramp_grade: float
    ramp_x0: float  # [m] |x| where each main ramp leaves the crest
    ramp_width: float  # [m]
    rim_road_offset: float  # [m] rim road centre line outside the crest
    floor_x: float  # [m] the floor roads' ends at (+-floor_x, 0) on the pit bottom


class Pit:
    """The pit's geometry: bench elevations and centre lines, the ramps, points on the rim road."""

    def __init__(self, p: PitShape) -> None:
        self.p = p
        # Inset where a main ramp is at crest level: chosen so that the ramp crosses each bench k exactly on the
        # centre line of that bench's floor, where the bench road branches off.
        self.ramp_i0 = p.face_w + (p.step - p.face_w) / 2 - p.step
        run = p.bench_h / p.ramp_grade  # [m] horizontal ramp length per bench
        self.ramp_along = math.sqrt(run**2 - p.step**2) / p.step  # [m along the wall per m of inset]
        self.ramp_vertex_di = p.step / 4  # [m of inset] between ramp vertices
        self.rim_i = -p.rim_road_offset

    def level_z(self, k: int) -> float:
        """Floor elevation of bench k (0 = crest) [m asl]."""
        return self.p.rim_z - self.p.bench_h * k

    def mid_inset(self, k: int) -> float:
        """Inset of the centre line of bench k's working floor from the crest [m]."""
        p = self.p
        return p.step * (k - 1) + p.face_w + (p.step - p.face_w) / 2

    def outline(self, inset: float) -> Polygon:
        """The pit's outline ``inset`` m in from the crest (negative: outside it)."""
        return rounded_rect(self.p.rim_hx - inset, self.p.rim_hy - inset, self.p.corner_r)

    def bench_ring(self, k: int) -> LineString:
        """Centre line of bench k's floor: the path bench roads follow around the pit."""
        return LineString(self.outline(self.mid_inset(k)).exterior.coords)

    def wall_xy(self, wall: str, inset: float, along: float) -> XY:
        """The point ``inset`` m in from the crest on one side of the pit, ``along`` m along that side."""
        p = self.p
        return {"e": (p.rim_hx - inset, along), "w": (-(p.rim_hx - inset), along),
                "n": (along, p.rim_hy - inset), "s": (along, -(p.rim_hy - inset))}[wall]

    def rim_point(self, side: str, at: float) -> XY:
        """A point of the rim road's centre line on one straight side."""
        return self.wall_xy(side, -self.p.rim_road_offset, at)

    def ramp_xy(self, side: str, inset: float) -> XY:
        """Plan position of the north ('n') or south ('s') main ramp where it is ``inset`` m in."""
        p = self.p
        along = (inset - self.ramp_i0) * self.ramp_along
        if side == "n":
            return (-p.ramp_x0 + along, p.rim_hy - inset)
        return (p.ramp_x0 - along, -p.rim_hy + inset)

    def junction(self, side: str, k: int) -> XY:
        """Where a ramp crosses bench k's centre line."""
        return self.ramp_xy(side, self.mid_inset(k))

    def ramp_z(self, inset: float) -> float:
        """A main ramp's elevation where it is ``inset`` m in: level to the crest, then falling at its grade."""
        p = self.p
        return p.rim_z - p.bench_h * max(inset - self.ramp_i0, 0.0) / p.step

    def ramp_piece(self, side: str, inset_from: float, inset_to: float) -> list[XYZ]:
        """Main-ramp polyline between two insets, with a vertex every ``ramp_vertex_di`` of inset."""
        insets = [inset_from]
        i = self.ramp_i0 if inset_from < self.ramp_i0 else inset_from  # flat approach ends at the crest
        while i < inset_to - 1e-6:
            if i > insets[-1] + 1e-6:
                insets.append(i)
            i += self.ramp_vertex_di
        insets.append(inset_to)
        return [(*self.ramp_xy(side, i), self.ramp_z(i)) for i in insets]

    def rim_ring(self) -> LineString:
        """The rim road's centre line: ``rim_road_offset`` outside the crest all round."""
        p, off = self.p, self.p.rim_road_offset
        return LineString(rounded_rect(p.rim_hx + off, p.rim_hy + off, p.corner_r + off).exterior.coords)

    def ramp_tops(self) -> tuple[XY, XY]:
        """Where the north and south ramps meet the rim road."""
        return self.ramp_xy("n", self.rim_i), self.ramp_xy("s", self.rim_i)

    def bench_road(self, k: int, start: XY, end: XY) -> list[XYZ]:
        """A flat road along bench k's centre line from start to end (both on that line)."""
        return flat(ring_arc(self.bench_ring(k), start, end), self.level_z(k))


def pit_drawing(pit: Pit) -> list[Feature]:
    """Pit outline, bench floors and one wall per face and side (for line-of-sight)."""
    p = pit.p
    feats = [polygon("pit", "pit", pit.outline(0.0), p.rim_z, elevation_m=p.rim_z)]
    wedges = quadrants(p.rim_hx - p.rim_hy)
    # The main ramps are cut into the faces they cross: no rock stands on the road, so the wall pieces stop at
    # the ramp's edges (a truck on the ramp sees past the cut, not out of the inside of a wall).
    ramp_cut = ops.unary_union([
        LineString([c[:2] for c in pit.ramp_piece(side, pit.ramp_i0, pit.mid_inset(p.levels))])
        .buffer(p.ramp_width / 2, cap_style="flat") for side in ("n", "s")])
    for k in range(1, p.levels + 1):
        crest_i = p.step * (k - 1)  # face k runs from the crest of bench k-1 down to bench k
        crest, toe = pit.outline(crest_i), pit.outline(crest_i + p.face_w)
        floor = toe.difference(pit.outline(p.step * k)) if k < p.levels else toe  # the last: the pit bottom
        feats.append(polygon("bench", f"bench-{pit.level_z(k):.0f}", floor, pit.level_z(k),
                             elevation_m=pit.level_z(k)))
        face = crest.difference(toe).difference(ramp_cut)
        crest_z = pit.level_z(k - 1)  # a wall blocks radio line of sight up to its crest elevation
        for side, wedge in wedges.items():
            part = face.intersection(wedge)
            geoms = [part] if isinstance(part, Polygon) else list(getattr(part, "geoms", []))
            # Slivers where a ramp cut meets a wedge edge are no wall (and would not survive 1 cm rounding).
            pieces = sorted((g for g in geoms if isinstance(g, Polygon) and g.area >= 1.0), key=lambda g: g.bounds)
            for n, piece in enumerate(pieces):
                suffix = "" if len(pieces) == 1 else "abcdefgh"[n]
                feats.append(polygon("wall", f"wall-{side}-{crest_z:.0f}{suffix}", piece, crest_z,
                                     elevation_m=crest_z))
    return feats
