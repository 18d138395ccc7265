"""CIELAB conversion and CIEDE2000 against published data."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sgd.design.colorimetry import ciede2000, hex_to_lab, lab_to_srgb, nearest_palette_distance, srgb_to_lab

# Sharma, Wu and Dalal (2005), Table 1: L1 a1 b1, L2 a2 b2, expected CIEDE2000 (4 decimals).
SHARMA_PAIRS = [
    (50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425),
    (50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615),
    (50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412),
    (50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669),
    (50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461),
    (50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065),
    (50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492),
    (50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977),
    (50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030),
    (50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000),
    (60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644),
    (63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630),
    (61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731),
    (35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645),
    (22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373),
    (36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146),
    (90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441),
    (90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381),
    (6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377),
    (2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082),
]


@pytest.mark.parametrize("pair", SHARMA_PAIRS, ids=[f"pair{n + 1}" for n in range(len(SHARMA_PAIRS))])
def test_ciede2000_matches_the_published_pairs_both_ways(pair: tuple[float, ...]) -> None:
    first, second, expected = np.array(pair[:3]), np.array(pair[3:6]), pair[6]
    assert ciede2000(first, second) == pytest.approx(expected, abs=1e-4)
    assert ciede2000(second, first) == pytest.approx(expected, abs=1e-4)


def test_ciede2000_vectorises_over_every_pair_at_once() -> None:
    data = np.array(SHARMA_PAIRS)
    np.testing.assert_allclose(ciede2000(data[:, :3], data[:, 3:6]), data[:, 6], atol=1e-4)


@pytest.mark.parametrize(("color", "lab"), [
    ("#FFFFFF", (100.0, 0.0, 0.0)),
    ("#000000", (0.0, 0.0, 0.0)),
    ("#FF0000", (53.2408, 80.0925, 67.2032)),
    ("#0000FF", (32.2970, 79.1875, -107.8602)),
    ("#808080", (53.5850, 0.0, 0.0)),
])
def test_srgb_to_lab_matches_reference_values(color: str, lab: tuple[float, float, float]) -> None:
    np.testing.assert_allclose(hex_to_lab(color), lab, atol=2e-3)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 255), min_size=3, max_size=3))
def test_lab_round_trips_every_srgb_colour(rgb: list[int]) -> None:
    assert lab_to_srgb(srgb_to_lab(np.array(rgb))).tolist() == rgb


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 255), min_size=6, max_size=6))
def test_ciede2000_is_symmetric_and_zero_only_for_equal_colours(channels: list[int]) -> None:
    first, second = srgb_to_lab(np.array(channels[:3])), srgb_to_lab(np.array(channels[3:]))
    forward, backward = float(ciede2000(first, second)), float(ciede2000(second, first))
    assert forward == pytest.approx(backward, abs=1e-9)
    assert (forward < 1e-9) == (channels[:3] == channels[3:])


def test_nearest_palette_distance_picks_the_closest_colour_per_pixel() -> None:
    pixels = srgb_to_lab(np.array([[[11, 61, 145], [255, 186, 30]], [[250, 250, 250], [200, 0, 0]]]))
    index, distance = nearest_palette_distance(pixels, ["#0B3D91", "#FFB81C", "#FFFFFF"])
    assert index.tolist() == [[0, 1], [2, 1]]
    assert distance[0, 0] == pytest.approx(0.0, abs=1e-6)
    assert distance[0, 1] < 2
    assert distance[1, 0] < 3
    assert distance[1, 1] > 20
