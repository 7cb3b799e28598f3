"""The safety controller's arithmetic, checked against hand-worked numbers."""

from __future__ import annotations

import numpy as np
import pytest

from edge.contract import SensorSpec
from edge.safety import SafetyParams, safe_speed, stop_distance


def test_safe_speed_solves_the_stopping_equation():
    """R = 60 m, margin 5 m, a = 2.9 m/s^2, t = 0.05 + 0.1 + 0.3 s: v*t + v^2/2a = 55 m."""
    p = SafetyParams(t_sense_s=0.05, t_actuation_s=0.3, margin_m=5.0)
    v = float(safe_speed(np.array([60.0]), np.array([0.1]), np.array([2.9]), p)[0])
    assert v * 0.45 + v * v / (2 * 2.9) == pytest.approx(55.0)
    assert v == pytest.approx(16.60, abs=0.01)  # 2.9 * (-0.45 + sqrt(0.45^2 + 2 * 55 / 2.9))


def test_older_results_and_shorter_range_mean_slower():
    p = SafetyParams()
    base = safe_speed(np.array([80.0]), np.array([0.05]), np.array([2.9]), p)[0]
    assert safe_speed(np.array([80.0]), np.array([0.5]), np.array([2.9]), p)[0] < base
    assert safe_speed(np.array([40.0]), np.array([0.05]), np.array([2.9]), p)[0] < base
    assert safe_speed(np.array([4.0]), np.array([0.05]), np.array([2.9]), p)[0] == 0.0


def test_only_detections_in_the_corridor_set_a_stop_line():
    """16 sectors over 60 deg. Ahead at 30 m (centre sectors) stops; 25 deg off axis at 30 m does not."""
    spec = SensorSpec()
    out = np.zeros((2, spec.sectors, 2), dtype=np.float32)
    out[..., 1] = 1.0
    out[0, 8] = (0.9, 0.30)  # just left of the axis, 30 m
    out[1, 15] = (0.9, 0.30)  # 26-30 deg left, 30 m: the next lane over
    d = stop_distance(out, spec, np.array([5.0, 5.0]), SafetyParams())
    assert d[0] == pytest.approx(30.0)
    assert d[1] == np.inf


def test_low_probability_is_not_a_detection():
    spec = SensorSpec()
    out = np.zeros((1, spec.sectors, 2), dtype=np.float32)
    out[0, 7] = (0.3, 0.2)
    assert stop_distance(out, spec, np.array([5.0]), SafetyParams())[0] == np.inf
