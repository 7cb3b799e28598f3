"""Results in flight: delivered in order of arrival (ties in order of putting), newest last, none lost."""

from __future__ import annotations

import numpy as np
import pytest

from fleet.inflight import InFlight

SECTORS = 3


class Known:
    """What each truck knows: the arrays a release writes."""

    def __init__(self, n: int) -> None:
        self.latest = np.zeros((n, SECTORS, 2), dtype=np.float32)
        self.t = np.full(n, -np.inf)
        self.s, self.route = np.zeros(n), np.full(n, -1, dtype=np.int64)
        self.x, self.y, self.h, self.latency = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)

    def args(self) -> tuple:
        return self.latest, self.t, self.s, self.route, self.x, self.y, self.h, self.latency


def _put(fl: InFlight, trucks: list[int], latency: list[float], t: float, n: int, rng: np.random.Generator) -> dict:
    """Put a frame at ``t`` with random results and poses; returns what was put per truck."""
    out = rng.random((len(trucks), SECTORS, 2)).astype(np.float32)
    truth = rng.random((len(trucks), SECTORS, 2)).astype(np.float32)
    s, route, x, y, h = rng.random(n), rng.integers(0, 9, n), rng.random(n), rng.random(n), rng.random(n)
    fl.put(np.array(trucks), np.array(latency, dtype=float), t, out, truth, s, route, x, y, h)
    return {i: (t + lat, t, lat, out[j], truth[j], (s[i], route[i], x[i], y[i], h[i]))
            for j, (i, lat) in enumerate(zip(trucks, latency, strict=True)) if lat == lat}


def test_random_puts_and_releases_match_a_sorted_queue() -> None:
    """Against the plain model: every result ever put, sorted by (arrival, put order), delivered when due."""
    rng = np.random.default_rng(5)
    n = 7
    fl, known = InFlight(n, SECTORS, depth=2), Known(n)
    queue: list[tuple[float, int, int, tuple]] = []  # (arrival, put order, truck, what was put)
    want = Known(n)
    puts = 0
    for step in range(400):
        now = 0.1 * step
        gap, exact = rng.uniform(0, 200, n), rng.random(n) < 0.2
        watched = fl.release(now, gap, exact, 100.0, *known.args())
        due = sorted(item for item in queue if item[0] <= now + 1e-9)
        queue = [item for item in queue if item[0] > now + 1e-9]
        expect_watched = []
        for _, _, i, (_, t_frame, lat, out, truth, pose) in due:
            want.latest[i], want.t[i], want.latency[i] = out, t_frame, lat
            want.s[i], want.route[i], want.x[i], want.y[i], want.h[i] = pose
            if gap[i] <= 100.0 and not exact[i]:
                expect_watched.append((i, t_frame, out, truth))
        expect_watched.sort(key=lambda item: item[0])  # truck by truck; each truck's in order of arrival
        got = [(int(i), fl.frame_t[i, k], fl.out[i, k], fl.truth[i, k]) for i, k in watched]
        assert [(i, t) for i, t, _, _ in got] == [(i, t) for i, t, _, _ in expect_watched]
        assert all(np.array_equal(a[2], b[2]) and np.array_equal(a[3], b[3])
                   for a, b in zip(got, expect_watched, strict=True))
        for a, b in zip(known.args(), want.args(), strict=True):
            assert np.array_equal(a, b)
        if step % 3 == 0:  # latencies of up to four frame periods, ties on purpose, some dropped
            trucks = sorted(rng.choice(n, rng.integers(1, n + 1), replace=False).tolist())
            latency = [float(rng.choice([0.05, 0.1, 0.25, np.nan, rng.uniform(0.0, 1.2)])) for _ in trucks]
            for i, item in _put(fl, trucks, latency, now, n, rng).items():
                queue.append((item[0], puts, i, item))
            puts += 1
        pending = {i: sorted((a, o) for a, o, j, _ in queue if j == i) for i in range(n)}
        assert {i: [(fl.arrival[i, k], fl.order[i, k]) for k in fl.of(i)] for i in range(n)} == pending
    assert fl.arrival.shape[1] > 2  # more results were in flight at once than the first slots held


def test_a_dropped_frame_is_never_delivered() -> None:
    fl, known = InFlight(2, SECTORS), Known(2)
    _put(fl, [0, 1], [np.nan, 0.05], 1.0, 2, np.random.default_rng(0))
    fl.release(5.0, np.full(2, np.inf), np.zeros(2, dtype=bool), 100.0, *known.args())
    assert known.t.tolist() == [-np.inf, 1.0]


@pytest.mark.parametrize(("first", "second", "newest"), [(0.75, 0.0, 1.0), (0.5, 0.0, 1.5), (0.25, 0.0, 1.5)])
def test_results_arriving_together_are_delivered_in_order_of_arrival_then_of_putting(first, second, newest) -> None:
    """Frames at 1.0 s and 1.5 s, both due in one release: what is known is the result arriving last, and on a
    tie (1.0 + 0.5 = 1.5 + 0.0) the one put last."""
    fl, known = InFlight(1, SECTORS), Known(1)
    _put(fl, [0], [first], 1.0, 1, np.random.default_rng(0))
    _put(fl, [0], [second], 1.5, 1, np.random.default_rng(1))
    fl.release(2.0, np.zeros(1), np.zeros(1, dtype=bool), 100.0, *known.args())
    assert known.t[0] == newest and known.latency[0] == (first if newest == 1.0 else second)
