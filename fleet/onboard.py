"""Each truck's edge stack in the loop: sensor frames, batched perception, release after the latency,
the safety controller's speed limit and stop line, and scoring against ground truth.

Frames are taken for every truck on the road at a fixed rate; trucks sharing a model go through it in one
batch; a result reaches its truck at frame time + latency (docs/architecture.md, "Edge"), never at host speed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from edge.chip import ChipTimeline
from edge.contract import SensorSpec
from edge.perception import Perception
from edge.safety import SafetyParams, obstacle_seen, truck_limits
from edge.sensor import Targets, Weather, ground_truth, synthesise
from fleet.hazards import KIND_NAMES, HazardField, obstacle_gaps
from fleet.inflight import InFlight
from fleet.state import HOLD_PERCEPTION
from metrics.quantiles import Quantiles

TRUCK_REFLECTIVITY = 0.5  # [-] painted steel body
# Why a truck struck an obstacle (the ``cause`` of its collision row in events.csv):
# missed_detection  the obstacle was in the sensor's range and view in a frame whose result did not detect it,
#                   while the truck could still stop (or after a detection in time), or no result ever detected it
# late_frame        the detection (or any fresh result: none within the budget) reached the truck only past the
#                   point where it could stop, or was still on its way at the impact
# detected_in_time  a result showed it while the truck could stop, and none lost it after: the controller's fault
# never_in_view     no frame had it in range and view before the impact
CAUSES = ("missed_detection", "late_frame", "detected_in_time", "never_in_view")


@dataclass
class Witness:
    """What the results delivered to one truck showed of the obstacle blocking its lane ahead, since it first
    blocked it: enough to say afterwards why a collision happened, kept for one obstacle at a time."""

    obstacle: int = -1
    x: float = np.nan  # [m] the obstacle's position tells a new obstacle in a reused slot from the old one
    y: float = np.nan
    missed: bool = False  # a result with the obstacle in view did not detect it
    missed_stoppable: bool = False  # ... while the truck could still stop short of it
    detected: bool = False  # a result detected it
    detected_stoppable: bool = False  # ... while the truck could still stop short of it
    lost: bool = False  # a result missed it after one had detected it while the truck could stop

    def see(self, in_view: bool, detected: bool, stoppable: bool) -> None:
        if detected:
            self.detected = True
            self.detected_stoppable |= stoppable
        elif in_view:
            self.missed = True
            self.missed_stoppable |= stoppable
            self.lost |= self.detected_stoppable

    def cause(self, pending_in_view: bool, pending_detected: bool, stale: bool) -> str:
        """The cause of a collision with this obstacle, given the results still on their way and staleness."""
        if self.detected_stoppable and not self.lost:
            return "detected_in_time"
        if self.missed_stoppable or self.lost:
            return "missed_detection"
        if self.detected or pending_detected or stale:
            return "late_frame"
        if self.missed or pending_in_view:
            return "missed_detection"
        return "never_in_view"


@dataclass(frozen=True)
class EdgeConfig:
    spec: SensorSpec
    frame_hz: float = 10.0  # [Hz]
    weather: Weather = field(default_factory=Weather)
    safety: SafetyParams = field(default_factory=SafetyParams)
    incident_s: float = 900.0  # [s] a truck stands after a collision (investigation, recovery)
    near_miss_m: float = 5.0  # [m] closer than this to an obstacle at speed is a near miss
    near_miss_speed_mps: float = 1.0  # [m/s]


@dataclass
class ModelSlot:
    """One perception runtime shared by the trucks that use it."""

    ref: str
    runtime: Perception
    latency_s: float  # [s] from frame to result on the truck, when no emulated chip decides it
    detect_range_m: float  # [m] range within which the model's held-out recall of small obstacles is high
    exact_path: bool = False  # the oracle knows which obstacles are in the truck's path
    chip: ChipTimeline | None = None  # the emulated accelerator every truck of this slot carries
    timing: str = "placeholder"  # placeholder | emulated | measured (host wall time of the batched call)
    frames: int = 0
    late: int = 0  # results delivered after the perception deadline (emulated)
    dropped: int = 0  # frames whose job was dropped on the chip (emulated)
    latencies: Quantiles = field(default_factory=Quantiles)  # [s] frame-to-result per frame call (bounded)
    tp: int = 0
    fp: int = 0
    fn: int = 0
    dist_err: float = 0.0  # [m] summed |error| over true positives


class Onboard:
    def __init__(self, sim, hazards: HazardField, cfg: EdgeConfig, slots: list[ModelSlot],
                 truck_slot: np.ndarray, rng: np.random.Generator,
                 make_slot: Callable[[str], ModelSlot] | None = None) -> None:
        self.sim = sim
        self.make_slot = make_slot
        self.hazards = hazards
        self.cfg = cfg
        self.slots = slots
        self.truck_slot = np.asarray(truck_slot, dtype=np.int64)
        self.rng = rng
        n = sim.fleet.n
        s = cfg.spec.sectors
        self.latest = np.zeros((n, s, 2), dtype=np.float32)
        self.latest[..., 1] = 1.0
        self.latest_t = np.full(n, -np.inf)  # [s] frame time of the newest result on the truck
        self.latest_s = np.zeros(n)  # [m] route distance at that frame
        self.latest_route = np.full(n, -1, dtype=np.int64)
        self.frame_x, self.frame_y, self.frame_h = np.zeros(n), np.zeros(n), np.zeros(n)  # pose at that frame
        self.inflight = InFlight(n, s)  # results on their way, with their frame's pose and ground truth
        self.latency = np.zeros(n)  # [s] frame-to-result latency of each truck's newest result
        self.next_frame = 0.0
        self.holding = np.zeros(n, dtype=bool)
        self.estop_flag = np.zeros(n, dtype=bool)
        self.true_gap = np.full(n, np.inf)
        self.true_obstacle = np.full(n, -1, dtype=np.int64)
        self.collisions = dict.fromkeys(KIND_NAMES, 0)
        self.witness = [Witness() for _ in range(n)]
        self.causes: dict[tuple[float, int], str] = {}  # (time, truck) of a collision -> its cause
        self.cause_counts = dict.fromkeys(CAUSES, 0)
        self.near_misses = 0
        self.estops = 0
        self.holds = 0
        self._near: set[tuple[int, int]] = set()
        self.safe_speed_sum = 0.0  # [m/s] summed over moving truck-ticks (capped at 100 m/s when unlimited)
        self.safe_speed_n = 0
        # Per-truck constants, gathered once: the per-tick controller only indexes them.
        cls = sim.fleet.class_index
        self._slot_constants()
        self.truck_emergency = sim.ct.emergency[cls]
        self.truck_service = sim.ct.brake[cls]
        self.truck_corridor = sim.ct.width[cls] / 2 + cfg.safety.corridor_m
        self.truck_body_r = np.hypot(sim.ct.width[cls], sim.ct.length[cls]) / 2  # [m] circle around the body
        self.fov_rad = float(np.deg2rad(cfg.spec.fov_deg))

    def _slot_constants(self) -> None:
        self.truck_range = np.array([s.detect_range_m for s in self.slots])[self.truck_slot]
        self.truck_exact = np.array([s.exact_path for s in self.slots])[self.truck_slot]

    def swap_model(self, trucks: np.ndarray, ref: str) -> None:
        """Put another perception model on these trucks, live; its first result arrives a latency later."""
        refs = [s.ref for s in self.slots]
        if ref not in refs:
            if self.make_slot is None:
                raise ValueError("this run cannot load new models")
            self.slots.append(self.make_slot(ref))
            refs.append(ref)
        self.truck_slot[trucks] = refs.index(ref)
        self._slot_constants()

    def model_of(self, truck: int) -> str:
        return self.slots[int(self.truck_slot[truck])].ref

    # -- before the kinematic step -------------------------------------------------------------------

    def limits(self, now: float, on: np.ndarray, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per on-road truck (index j): stop gap [m] and speed limit [m/s] from what the truck knows now."""
        f, cfg = self.sim.fleet, self.cfg
        self._release(now)
        if now + 1e-9 >= self.next_frame:
            self._frame(now, on, seg)
            self.next_frame += 1.0 / cfg.frame_hz
        if self.truck_exact.any():
            self._ground_truth(on, seg)  # only the oracle reads the true gap before the move
        stop, v_limit, stale, hard = truck_limits(
            on, now, self.latest, self.latest_t, self.latest_s, self.latest_route, self.frame_x, self.frame_y,
            self.frame_h, f.route, f.s, f.v, f.x, f.y, self.truck_body_r, self.latency, 1.0 / cfg.frame_hz,
            self.truck_range, self.truck_exact,
            self.truck_emergency, self.truck_service, self.truck_corridor,
            self.true_gap, self.fov_rad, cfg.spec.max_range_m, cfg.safety.t_sense_s, cfg.safety.t_actuation_s,
            cfg.safety.margin_m, cfg.safety.budget_s, cfg.safety.threshold, cfg.safety.known_truck_tol_m)
        self._hold(on, stale)
        moving = f.v[on] > 0.5
        self.safe_speed_sum += float(np.sum(np.minimum(v_limit[moving], 100.0)))
        self.safe_speed_n += int(np.sum(moving))
        self.estops += int(np.sum(hard & ~self.estop_flag[on]))
        self.estop_flag[on] = hard
        return stop, v_limit

    def _frame(self, now: float, on: np.ndarray, seg: np.ndarray) -> None:
        if not len(on):
            return
        sim, f, hz, rt = self.sim, self.sim.fleet, self.hazards, self.sim.rt
        alive = np.flatnonzero(hz.alive)
        truck_r = sim.ct.width[f.class_index[on]] / 2
        targets = Targets(np.concatenate([hz.x[alive], f.x[on]]), np.concatenate([hz.y[alive], f.y[on]]),
                          np.concatenate([hz.r[alive], truck_r]),
                          np.concatenate([hz.refl[alive], np.full(len(on), TRUCK_REFLECTIVITY)]))
        self_target = len(alive) + np.arange(len(on))
        half_width = rt.seg_half_width[seg]
        need_scan = any(s.runtime.needs_scan for s in self.slots)
        if need_scan:
            scans, truth = synthesise(self.cfg.spec, f.x[on], f.y[on], f.heading[on], half_width, self_target,
                                      targets, self.cfg.weather, self.rng)
        else:
            truth = ground_truth(self.cfg.spec, f.x[on], f.y[on], f.heading[on], self_target, targets)
            scans = truth  # unused by oracle and blind
        slot = self.truck_slot[on]
        for k, s in enumerate(self.slots):
            sel = np.flatnonzero(slot == k)
            if not len(sel):
                continue
            started = time.perf_counter()
            out = s.runtime.infer(scans[sel], truth[sel])
            host_s = time.perf_counter() - started
            self._score(s, out, truth[sel])
            idx = on[sel]
            self.inflight.put(idx, self._latency(s, now, host_s, idx), now, out, truth[sel], f.s, f.route, f.x, f.y,
                              f.heading)
        self._release(now)

    def _latency(self, s: ModelSlot, now: float, host_s: float, idx: np.ndarray) -> np.ndarray:
        """Frame-to-result latency [s] of this frame for each of the slot's trucks ``idx``, NaN where the chip
        dropped it. With an emulated chip a truck's latency is its phase class's."""
        if s.timing == "measured":
            s.latencies.add(host_s)
            return np.full(len(idx), host_s)
        if s.chip is None:
            s.latencies.add(s.latency_s)
            return np.full(len(idx), s.latency_s)
        per_class = np.empty(s.chip.chips)
        for c, (finish, late) in enumerate(s.chip.frame(now)):
            s.late += int(late)
            if finish is None:
                s.dropped += 1
                per_class[c] = np.nan
            else:
                per_class[c] = finish - now
                s.latencies.add(per_class[c])
        return per_class[idx % s.chip.chips]

    def _release(self, now: float) -> None:
        """Deliver the results due by ``now``; note what those of trucks near an obstacle showed of it."""
        for i, k in self.inflight.release(now, self.true_gap, self.truck_exact, self.cfg.spec.max_range_m,
                                          self.latest, self.latest_t, self.latest_s, self.latest_route, self.frame_x,
                                          self.frame_y, self.frame_h, self.latency).tolist():
            self._witness(i, k)

    def _obstacle_view(self, obstacle: int, out: np.ndarray, pose: np.ndarray,
                       truth: np.ndarray) -> tuple[bool, bool]:
        """Was ``obstacle`` in range and view of a frame (taken at ``pose``: s, route, x, y, heading)
        and did its result ``out`` detect it. The frame's own ground truth ``truth`` must show a target at least
        as near in its sectors: an obstacle that appeared after the frame was not there to be seen."""
        hz, cfg = self.hazards, self.cfg
        alone = ground_truth(cfg.spec, pose[2:3], pose[3:4], pose[4:5], np.full(1, -1),
                             Targets(hz.x[obstacle:obstacle + 1], hz.y[obstacle:obstacle + 1],
                                     hz.r[obstacle:obstacle + 1], hz.refl[obstacle:obstacle + 1]))
        there = (truth[None, :, 0] >= 0.5) & (truth[None, :, 1] <= alone[..., 1] + 1e-4)
        alone[..., 0] = np.where(there, alone[..., 0], 0.0)
        in_view, detected = obstacle_seen(out[None], alone, cfg.safety.threshold, cfg.spec.max_range_m,
                                          cfg.safety.margin_m)
        return bool(in_view[0]), bool(detected[0])

    def _witness(self, i: int, k: int) -> None:
        """A result (in-flight slot ``k``) reaching truck ``i`` with an obstacle blocking its lane within the
        sensor's range ahead (measured along the road; only across a bend could a farther one be in range): note
        what it showed of it and whether the truck could still stop (emergency brake) where it reached it. Not
        for the oracle, which stops on the true gap whatever its results say."""
        f, hz, fl = self.sim.fleet, self.hazards, self.inflight
        obstacle = int(self.true_obstacle[i])
        w = self.witness[i]
        if w.obstacle != obstacle or w.x != hz.x[obstacle] or w.y != hz.y[obstacle]:
            w = self.witness[i] = Witness(obstacle, float(hz.x[obstacle]), float(hz.y[obstacle]))
        in_view, detected = self._obstacle_view(obstacle, fl.out[i, k], fl.pose[i, k], fl.truth[i, k])
        stoppable = self.true_gap[i] >= f.v[i] ** 2 / (2.0 * self.truck_emergency[i])
        w.see(in_view, detected, bool(stoppable))

    def _cause(self, i: int, obstacle: int) -> str:
        """Why truck ``i`` struck ``obstacle``: from what its delivered results showed (``Witness``), what the
        results still on their way show, and whether its newest result was older than the budget."""
        if self.truck_exact[i]:
            return "detected_in_time"  # the oracle knew the obstacle's true distance at every tick
        hz = self.hazards
        w = self.witness[i]
        if w.obstacle != obstacle or w.x != hz.x[obstacle] or w.y != hz.y[obstacle]:
            w = Witness(obstacle)
        pending_in_view = pending_detected = False
        fl = self.inflight
        for k in fl.of(i):
            in_view, detected = self._obstacle_view(obstacle, fl.out[i, k], fl.pose[i, k], fl.truth[i, k])
            pending_in_view |= in_view
            pending_detected |= detected
        stale = self.sim.t - self.latest_t[i] > self.cfg.safety.budget_s
        return w.cause(pending_in_view, pending_detected, bool(stale))

    def _score(self, s: ModelSlot, out: np.ndarray, truth: np.ndarray) -> None:
        tp, fp, fn, err = _confusion(out, truth, self.cfg.safety.threshold)
        s.frames += len(out)
        s.tp += tp
        s.fp += fp
        s.fn += fn
        s.dist_err += err * self.cfg.spec.max_range_m

    def _ground_truth(self, on: np.ndarray, seg: np.ndarray) -> None:
        f, rt, hz = self.sim.fleet, self.sim.rt, self.hazards
        self.true_gap[:] = np.inf
        self.true_obstacle[:] = -1
        if not len(on) or not hz.any_alive():
            return
        gap, which = obstacle_gaps(seg, f.s[on], f.route[on], hz.r, rt.seg_edge, rt.seg_edge_s0, rt.seg_k,
                                   rt.route_edges, rt.route_edge_s0, hz.block_start, hz.block_off, hz.block_slot)
        self.true_gap[on], self.true_obstacle[on] = gap, which

    def _hold(self, on: np.ndarray, stale: np.ndarray) -> None:
        """Moving trucks with stale perception go to HOLD; they resume when a fresh result arrives."""
        if not stale.any() and not self.holding.any():
            return
        enter = stale & (self.sim.fleet.v[on] > 0.0) & ~self.holding[on]
        self.holds += int(np.sum(enter))
        leave = ~stale & self.holding[on]
        self.sim.hold(on[enter], HOLD_PERCEPTION, True)
        self.sim.hold(on[leave], HOLD_PERCEPTION, False)
        self.holding[on] = (self.holding[on] | enter) & ~leave

    # -- after the kinematic step --------------------------------------------------------------------

    def after_move(self, on: np.ndarray, seg: np.ndarray) -> list[tuple[int, int]]:
        """Score near misses and find collisions: (truck, obstacle) pairs whose gap closed to zero."""
        self._ground_truth(on, seg)
        f = self.sim.fleet
        hits = []
        for j in np.flatnonzero(np.isfinite(self.true_gap[on])):
            i, obs = int(on[j]), int(self.true_obstacle[on[j]])
            g = self.true_gap[i]
            if g <= 0.0:
                hits.append((i, obs))
                cause = self._cause(i, obs)
                self.causes[(self.sim.t, i)] = cause
                self.cause_counts[cause] += 1
            elif g < self.cfg.near_miss_m and f.v[i] > self.cfg.near_miss_speed_mps and (i, obs) not in self._near:
                self._near.add((i, obs))
                self.near_misses += 1
        return hits

    def summary(self) -> dict:
        models = {}
        for s in self.slots:
            users = int(np.sum(self.truck_slot == self.slots.index(s)))
            models[s.ref] = {
                "trucks": users, "frames": s.frames,
                "recall": round(s.tp / (s.tp + s.fn), 4) if s.tp + s.fn else None,
                "precision": round(s.tp / (s.tp + s.fp), 4) if s.tp + s.fp else None,
                "distance_mae_m": round(s.dist_err / s.tp, 3) if s.tp else None,
                "timing": s.timing,
                "latency_p50_ms": round(s.latencies.percentile(50) * 1e3, 4) if s.latencies.count else None,
                "latency_p99_ms": round(s.latencies.percentile(99) * 1e3, 4) if s.latencies.count else None,
                "late_frames": s.late, "dropped_frames": s.dropped,
                **({"chip": s.chip.summary(users)} if s.chip is not None else {}),
                "detect_range_m": round(s.detect_range_m, 2),
            }
        return {
            "collisions": sum(self.collisions.values()),
            "collisions_by_kind": dict(self.collisions),
            "collision_causes": dict(self.cause_counts),
            "min_gap_m": round(float(self.sim.min_gap[0]), 3) if np.isfinite(self.sim.min_gap[0]) else None,
            "near_misses": self.near_misses,
            "estops": self.estops,
            "holds": self.holds,
            "safe_speed_mean_kmh": round(3.6 * self.safe_speed_sum / max(self.safe_speed_n, 1), 3),
            "perception": models,
            "hazards_appeared": dict(self.hazards.by_kind),
        }


@njit(cache=True)
def _confusion(out, truth, threshold):
    """True/false positives, false negatives and summed |distance error| (normalised) over sectors."""
    tp = fp = fn = 0
    err = 0.0
    for i in range(out.shape[0]):
        for q in range(out.shape[1]):
            pred = out[i, q, 0] >= threshold
            real = truth[i, q, 0] >= 0.5
            if pred and real:
                tp += 1
                err += abs(out[i, q, 1] - truth[i, q, 1])
            elif pred:
                fp += 1
            elif real:
                fn += 1
    return tp, fp, fn, err
