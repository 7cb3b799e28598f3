"""One perception frame on every phase class of a chip group, settled in one compiled call.

Why: at 10 Hz on every truck, building a `Job` and a `JobResult` per background and perception job and
walking the Python scheduler cost more than the rest of the chip's emulation. This kernel settles the same jobs
the same way as `DeviceScheduler.submit_all` (non-preemptive list scheduling, FIFO or EDF, `streams` queues,
drop or late on a predicted miss), on plain arrays; `tests/edge/test_accel_frame.py` holds it to the scheduler
job for job. Settled jobs are counted per (class, task), and their latency and queueing samples are written, in
settling order, to buffers the caller folds into `Quantiles` (docs/architecture.md, "Edge").
"""

from __future__ import annotations

import numpy as np
from numba import njit

DONE = 0
NEED_RELEASES = 1  # a background clock's buffered releases end before the frame: refill, call again
NEED_ROOM = 2  # a sample buffer could overflow: fold the samples, call again


@njit(cache=True)
def settle_frame(t, rel, rel_pos, task_latency, task_budget, task_priority, task_drop, deadline_s, edf, free, busy,
                 jobs, missed, dropped, lat_buf, queued_buf, n_buf, finish_out, late_out):
    """Submit to class c's chip, for every class c, the background releases before ``t`` [s], in release order
    (ties in task order), then the perception job released at ``t``, and settle them all.

    ``rel[c, k, :]`` buffered releases of class c's task k from ``rel_pos[c, k]`` on (NaN: no more buffered,
    and so must one follow the last release before ``t``); the perception job is
    task ``K`` (the last entry of ``task_latency`` etc.), due ``deadline_s`` after ``t``. ``free[c, s]`` [s]
    when stream s of class c is next idle and ``busy[c]`` [s] its busy time, updated. Per (class, task):
    ``jobs``, ``missed``, ``dropped`` counts and ``n_buf`` samples in ``lat_buf`` (release to finish) and
    ``queued_buf`` (release to start). Out per class: the perception job's finish (nan when dropped) and
    whether it missed its deadline. Returns DONE, or NEED_RELEASES / NEED_ROOM having changed nothing.
    """
    n_class, n_bg, depth = rel.shape
    room = lat_buf.shape[2]
    n_streams = free.shape[1]
    most = 1
    for c in range(n_class):
        count = 1
        for k in range(n_bg):
            p = rel_pos[c, k]
            while p < depth and rel[c, k, p] < t:
                p += 1
            if p == depth or np.isnan(rel[c, k, p]):
                return NEED_RELEASES
            if n_buf[c, k] + p - rel_pos[c, k] > room:
                return NEED_ROOM
            count += p - rel_pos[c, k]
        if n_buf[c, n_bg] + 1 > room:
            return NEED_ROOM
        most = max(most, count)
    release = np.empty(most)
    task = np.empty(most, dtype=np.int64)
    waiting = np.empty(most, dtype=np.bool_)
    for c in range(n_class):
        m = 0
        for k in range(n_bg):  # task-major, then a stable insertion sort by release: ties stay in task order
            while rel[c, k, rel_pos[c, k]] < t:
                r = rel[c, k, rel_pos[c, k]]
                rel_pos[c, k] += 1
                j = m
                while j > 0 and release[j - 1] > r:
                    release[j] = release[j - 1]
                    task[j] = task[j - 1]
                    j -= 1
                release[j] = r
                task[j] = k
                m += 1
        release[m] = t
        task[m] = n_bg
        m += 1
        for j in range(m):
            waiting[j] = True
        for _ in range(m):
            stream = 0
            for s in range(1, n_streams):
                if free[c, s] < free[c, stream]:
                    stream = s
            earliest = np.inf
            for j in range(m):
                if waiting[j] and release[j] < earliest:
                    earliest = release[j]
            start = max(free[c, stream], earliest)
            chosen = -1
            best_due = 0.0
            best_priority = 0
            for j in range(m):  # the policy's order: (release | deadline, higher priority, submission)
                if not waiting[j] or release[j] > start:
                    continue
                k = task[j]
                due = (t + deadline_s if k == n_bg else release[j] + task_budget[k]) if edf else release[j]
                if chosen < 0 or due < best_due or (due == best_due and task_priority[k] > best_priority):
                    chosen, best_due, best_priority = j, due, task_priority[k]
            waiting[chosen] = False
            k = task[chosen]
            deadline = t + deadline_s if k == n_bg else release[chosen] + task_budget[k]
            finish = start + task_latency[k]
            miss = finish > deadline
            drop = miss and task_drop[k]
            jobs[c, k] += 1
            missed[c, k] += miss
            dropped[c, k] += drop
            if not drop:
                free[c, stream] = finish
                busy[c] += task_latency[k]
                lat_buf[c, k, n_buf[c, k]] = finish - release[chosen]
                queued_buf[c, k, n_buf[c, k]] = start - release[chosen]
                n_buf[c, k] += 1
            if k == n_bg:
                finish_out[c] = np.nan if drop else finish
                late_out[c] = miss
    return DONE
