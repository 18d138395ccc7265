import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sgd.design.color import (
    best_text_pair,
    chroma,
    contrast_ratio,
    normalize_hex,
    parse_hex,
    readable_on,
    relative_luminance,
    to_hex,
)

channels = st.integers(min_value=0, max_value=255)
rgbs = st.tuples(channels, channels, channels)


def test_parse_hex_reads_either_case() -> None:
    assert parse_hex("#1a2B3c") == (26, 43, 60)
    assert parse_hex("1A2B3C") == (26, 43, 60)
    assert parse_hex("#fff") == (255, 255, 255)


def test_to_hex_is_upper_case_canonical() -> None:
    assert to_hex((26, 43, 60)) == "#1A2B3C"
    assert to_hex((0, 0, 0)) == "#000000"
    assert normalize_hex("#abcdef") == "#ABCDEF"
    assert normalize_hex("#abc") == "#AABBCC"


@pytest.mark.parametrize("value", ["", "#12345", "#1234567", "#GG0000", "red", "##123456"])
def test_parse_hex_rejects_what_is_not_a_colour(value: str) -> None:
    with pytest.raises(ValueError, match="not a hex colour"):
        parse_hex(value)


@pytest.mark.parametrize("rgb", [(256, 0, 0), (-1, 0, 0), (0, 0), (1.5, 0, 0)])
def test_to_hex_rejects_out_of_range_channels(rgb: tuple) -> None:
    with pytest.raises(ValueError, match="RGB triple"):
        to_hex(rgb)


@given(rgbs)
def test_hex_round_trip(rgb: tuple[int, int, int]) -> None:
    assert parse_hex(to_hex(rgb)) == rgb
    assert normalize_hex(to_hex(rgb).lower()) == to_hex(rgb)


def test_relative_luminance_follows_wcag_2_1() -> None:
    assert relative_luminance("#000000") == 0.0
    assert relative_luminance("#FFFFFF") == pytest.approx(1.0)
    # Channel 10 (0.0392) is in the linear segment, channel 11 (0.0431) on the power curve (threshold 0.04045).
    assert relative_luminance((10, 10, 10)) == pytest.approx(10 / 255 / 12.92)
    assert relative_luminance((11, 11, 11)) == pytest.approx(((11 / 255 + 0.055) / 1.055) ** 2.4)
    # Weights 0.2126 R + 0.7152 G + 0.0722 B.
    assert relative_luminance("#FF0000") == pytest.approx(0.2126)
    assert relative_luminance("#00FF00") == pytest.approx(0.7152)
    assert relative_luminance("#0000FF") == pytest.approx(0.0722)


@pytest.mark.parametrize(("first", "second", "expected"), [
    ("#000000", "#FFFFFF", 21.0),
    ("#777777", "#FFFFFF", 4.478),  # the classic just-fails-AA grey
    ("#767676", "#FFFFFF", 4.542),  # the darkest grey that passes AA on white
    ("#FF0000", "#FFFFFF", 3.998),
    ("#0000FF", "#FFFFFF", 8.592),
    ("#123456", "#123456", 1.0),
])
def test_contrast_ratio_of_known_pairs(first: str, second: str, expected: float) -> None:
    assert contrast_ratio(first, second) == pytest.approx(expected, abs=0.001)


def test_contrast_ratio_accepts_hex_and_rgb_alike() -> None:
    assert contrast_ratio((119, 119, 119), "#fff") == contrast_ratio("#777777", (255, 255, 255))


def test_contrast_ratio_is_not_rounded_up_to_a_threshold() -> None:
    assert contrast_ratio("#777777", "#FFFFFF") < 4.5


@given(rgbs, rgbs)
def test_contrast_ratio_is_symmetric_and_bounded(first: tuple[int, int, int], second: tuple[int, int, int]) -> None:
    ratio = contrast_ratio(first, second)
    assert ratio == contrast_ratio(second, first)
    assert 1.0 <= ratio <= 21.0 + 1e-9


def test_best_text_pair_picks_the_highest_contrast_and_lists_the_earlier_colour_as_background() -> None:
    assert best_text_pair(["#777777", "#FFFFFF", "#000000"]) == ("#FFFFFF", "#000000", pytest.approx(21.0))
    assert best_text_pair(["#000000", "#777777", "#FFFFFF"])[:2] == ("#000000", "#FFFFFF")
    background, text, ratio = best_text_pair(["#0a2540", "#635bff", "#f6f9fc"])
    assert (background, text) == ("#0A2540", "#F6F9FC")
    assert ratio == pytest.approx(contrast_ratio("#0A2540", "#F6F9FC"))


def test_best_text_pair_needs_two_distinct_colours() -> None:
    with pytest.raises(ValueError, match="two distinct"):
        best_text_pair(["#FFFFFF", "#ffffff"])


@given(st.lists(rgbs, min_size=2, max_size=12, unique=True))
def test_best_text_pair_beats_every_other_pair(palette: list[tuple[int, int, int]]) -> None:
    background, text, ratio = best_text_pair(palette)
    hexes = [to_hex(rgb) for rgb in palette]
    assert {background, text} <= set(hexes)
    assert hexes.index(background) < hexes.index(text)
    assert all(ratio >= contrast_ratio(a, b) for a, b in itertools.combinations(palette, 2))


def test_readable_on_keeps_only_readable_candidates_best_first() -> None:
    candidates = ["#777777", "#000", "#767676", "#333333", "#ffffff"]
    assert readable_on("#FFFFFF", candidates) == ["#000000", "#333333", "#767676"]
    assert readable_on("#FFFFFF", candidates, minimum=3.0) == ["#000000", "#333333", "#767676", "#777777"]
    assert readable_on("#FFFFFF", ["#EEEEEE"]) == []


def test_chroma_ignores_greys_and_tints() -> None:
    assert chroma("#FF0000") == 1.0
    assert chroma("#777777") == 0.0
    assert chroma("#FFFEFE") == pytest.approx(1 / 255)  # HSL would call this fully saturated
    assert chroma("#00D4FF") > chroma("#635BFF")
