"""How a truck is loaded: pass after pass until its payload is as near its rated payload as the bucket allows.

The number of passes is not a property of the shovel: it follows from this truck's rated payload and the mean
payload of one pass (``bucket_t x fill_factor``), so a 35 t and a 77 t truck load for different times under the
same bucket. The loader adds a pass while that is expected to bring the load nearer the rated payload and not
above the soft overload limit; each pass's payload scatters (gamma, ``payload_cv``, seeded). The hard limit is
never exceeded: a load over it has the excess taken back before the truck leaves (counted as a trim).

The limits follow the usual 10/10/20 payload policy for mining trucks (mean payload at the rated payload, at most
10 % of loads above 110 %, none above 120 %): a pass is not begun if it is expected to end above 110 %, and no
load leaves above 120 %. See docs/architecture.md, "Loading".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

MAX_PASSES = 1000  # [-] a guard against a bucket far too small for the truck (the map check names it first)


@dataclass(frozen=True)
class LoadingPolicy:
    soft_over: float = 0.10  # [-] no pass begun that is expected to end above (1 + soft_over) x rated payload
    hard_over: float = 0.20  # [-] no load leaves above (1 + hard_over) x rated payload


@dataclass(frozen=True)
class Load:
    payload_t: float
    passes: int
    trimmed: bool  # the last pass overshot the hard limit and the excess was taken back


def load_truck(rated_t: float, pass_t: float, draw_pass: Callable[[], float],
               policy: LoadingPolicy = LoadingPolicy()) -> Load:
    """Load one truck: ``draw_pass()`` is the payload of the next pass [t] (mean ``pass_t``)."""
    payload, passes = 0.0, 0
    soft = (1.0 + policy.soft_over) * rated_t
    while passes == 0 or (payload + pass_t / 2 <= rated_t and payload + pass_t <= soft and passes < MAX_PASSES):
        payload += draw_pass()
        passes += 1
    hard = (1.0 + policy.hard_over) * rated_t
    return Load(round(min(payload, hard), 1), passes, payload > hard)  # as a payload scale reads it, to 0.1 t


def planned_passes(rated_t: float, pass_t: float, policy: LoadingPolicy = LoadingPolicy()) -> Load:
    """The load without scatter: what the layout tells the cloud a truck of this class takes here."""
    return load_truck(rated_t, pass_t, lambda: pass_t, policy)


def loadable(rated_t: float, pass_t: float, policy: LoadingPolicy = LoadingPolicy()) -> bool:
    """One pass does not overload the truck beyond the hard limit (a bucket too big for the truck)."""
    return pass_t <= (1.0 + policy.hard_over) * rated_t
