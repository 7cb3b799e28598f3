"""The camera: one world <-> pixel transform, north up, zoom about the cursor, pan, fit, visibility."""

from __future__ import annotations

import numpy as np
import pytest

from view.camera import MAX_SCALE, Camera


def test_world_and_screen_are_inverse_and_north_is_up():
    """A point 10 m north of the centre sits 10 m x scale pixels above it; to_world undoes to_screen."""
    cam = Camera(800, 600, scale=2.0, cx=100.0, cy=50.0)
    assert cam.to_screen(100.0, 50.0) == (400.0, 300.0)
    assert cam.to_screen(100.0, 60.0) == (400.0, 280.0)  # north: up (smaller y)
    assert cam.to_screen(110.0, 50.0) == (420.0, 300.0)  # east: right
    xs, ys = np.array([-300.0, 0.0, 512.5]), np.array([40.0, -7.0, 999.0])
    px, py = cam.to_screen(xs, ys)
    wx, wy = cam.to_world(px, py)
    assert wx == pytest.approx(xs) and wy == pytest.approx(ys)
    assert cam.points(np.stack([xs, ys], axis=1)) == pytest.approx(np.stack([px, py], axis=1))


def test_zoom_keeps_the_world_point_under_the_cursor():
    cam = Camera(1280, 800, scale=0.2, cx=0.0, cy=0.0)
    before = cam.to_world(1000.0, 150.0)
    cam.zoom_at(1.25 ** 3, 1000.0, 150.0)
    assert cam.scale == pytest.approx(0.2 * 1.25 ** 3)
    assert cam.to_world(1000.0, 150.0) == pytest.approx(before)
    cam.zoom_at(0.5, 1000.0, 150.0)
    assert cam.to_world(1000.0, 150.0) == pytest.approx(before)


def test_zoom_is_bounded_and_stays_put_at_the_limits():
    cam = Camera(1280, 800)
    cam.fit((-1000.0, -500.0, 1000.0, 500.0))
    fit_scale = cam.scale
    for _ in range(100):
        cam.zoom_at(2.0, 10.0, 10.0)
    assert cam.scale == MAX_SCALE
    for _ in range(100):
        cam.zoom_at(0.5, 10.0, 10.0)
    assert cam.scale == pytest.approx(cam.min_scale) and cam.min_scale < fit_scale


def test_pan_moves_the_picture_with_the_mouse():
    """Dragging 50 px right and 20 px down brings into the grab point what was 50 px left and 20 px up."""
    cam = Camera(1280, 800, scale=0.5)
    grabbed = cam.to_world(300.0, 300.0)
    cam.pan(50.0, 20.0)
    assert cam.to_world(350.0, 320.0) == pytest.approx(grabbed)


def test_fit_shows_the_whole_box_beside_the_panels():
    cam = Camera(1280, 800)
    box = (-2450.0, -1560.0, 2800.0, 1950.0)
    cam.fit(box, inset=(270, 0, 0, 0))
    left, top = cam.to_screen(box[0], box[3])
    right, bottom = cam.to_screen(box[2], box[1])
    assert left >= 270 and right <= 1280 and top >= 0 and bottom <= 800
    assert (left - 270) == pytest.approx(1280 - right) or (top == pytest.approx(800 - bottom))


def test_visibility_masks_points_off_screen_and_boxes_overlapping_it():
    cam = Camera(100, 100, scale=1.0)
    x, y = np.array([0.0, 49.0, 60.0, -55.0]), np.array([0.0, 0.0, 0.0, 0.0])
    assert cam.visible(x, y).tolist() == [True, True, False, False]
    assert cam.visible(x, y, pad_px=10).tolist() == [True, True, True, True]
    assert cam.sees((40.0, 40.0, 80.0, 80.0)) and not cam.sees((60.0, 60.0, 80.0, 80.0))


def test_follow_centres_and_resize_keeps_the_centre():
    cam = Camera(1280, 800, scale=3.0)
    cam.centre_on(123.0, -45.0)
    assert cam.to_screen(123.0, -45.0) == (640.0, 400.0)
    cam.resize(640, 480)
    assert cam.to_screen(123.0, -45.0) == (320.0, 240.0)
