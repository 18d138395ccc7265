"""The brand graphic that fills the picture area when a design has no imagery: palette-only, deterministic, varied by
the seed, clear of the logo's clear space; and the stack layout rebalanced so copy and graphic share the canvas."""

import io
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from sgd.design.engine import Design, DesignRequest, render_design
from sgd.design.geometry import Box, clearance
from sgd.design.graphics import LOUD_STYLES, QUIET_STYLES, STYLES, draw_graphic, graphic_colors, grid, style_for
from sgd.design.layout import DEFAULT_MEDIA_SHARE, TEMPLATES, template_candidates, template_for_seed
from sgd.design.planner import rule_based_plan

PALETTE = ("#3B2314", "#C8A27A", "#F4EDE4", "#D9482B")
CANON: dict[str, Any] = {"palette_hex": list(PALETTE), "fonts": ["Open Sans"], "logo_safe_zone_pct": 10.0,
                         "logo_asset_id": "logo-1"}
INSTRUCTION = 'Link ad: "Taste the harvest" - register today'
MIN_COLOR_SHARE = 0.03


def logo_png() -> bytes:
    logo = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    logo.paste((59, 35, 20, 255), (20, 20, 180, 180))
    buffer = io.BytesIO()
    logo.save(buffer, format="PNG")
    return buffer.getvalue()


def render(width: int, height: int, seed: int, **options: Any) -> Design:
    request = {"prompts": {"task": "create", "instruction": INSTRUCTION},
               "outputs": {"count": 1, "format": "png", "dimensions": f"{width}x{height}"}}
    plan = rule_based_plan(INSTRUCTION, CANON, request)
    options.setdefault("palette", PALETTE)
    return render_design(DesignRequest(plan=plan, width=width, height=height, format="png", seed=seed, **options))


def pixels(result: Design) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(result.data)).convert("RGB"))


def graphic_seed(width: int, height: int, index: int) -> int:
    """The index-th seed whose template has a picture area (the hero has none without imagery)."""
    candidates = template_candidates(width, height)
    seeds = [seed for seed in range(64) if template_for_seed(candidates, seed)[0] != "hero"]
    return seeds[index]


def stack_seed(index: int) -> int:
    """The seed of the stack template's index-th variant on a story."""
    candidates = template_candidates(1080, 1920)
    return candidates.index("stack") + index * len(candidates)


def media_box(result: Design) -> Box:
    """The picture area's part on the canvas (a spotlight's circle reaches past the edges)."""
    media = Box(*next(shape["box"] for shape in result.layout["shapes"] if shape["name"] == "media"))
    visible = media.intersection(Box(0, 0, result.width, result.height))
    assert visible is not None
    return visible


def color_shares(area: np.ndarray) -> dict[str, float]:
    flat = area.reshape(-1, 3).astype(np.uint32)
    values, counts = np.unique((flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2], return_counts=True)
    total = counts.sum()
    return {f"#{value:06X}": count / total for value, count in zip(values.tolist(), counts.tolist(), strict=True)}


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("width", "height"), [(1200, 628), (1080, 1920), (1080, 1350), (1600, 300)])
def test_the_picture_area_holds_a_palette_graphic_not_a_flat_block(width: int, height: int, seed: int) -> None:
    result = render(width, height, graphic_seed(width, height, seed), logo=logo_png())
    media = media_box(result)
    area = pixels(result)[media.y:media.bottom, media.x:media.right]
    logo = Box(*result.layout["logo_box"])
    if logo.intersects(media):  # the logo and its plate are not part of the graphic
        area = area.copy()
        area[logo.y - media.y:logo.bottom - media.y, logo.x - media.x:logo.right - media.x] = area[0, 0]
    shares = color_shares(area)
    assert set(shares) <= set(PALETTE), shares  # aliased shapes: every pixel is exactly a palette colour
    assert sum(share >= MIN_COLOR_SHARE for share in shares.values()) >= 2, shares
    graphic = [shape for shape in result.layout["shapes"] if shape["name"] == "graphic"]
    assert graphic
    for shape in graphic:
        assert media.contains(Box(*shape["box"]))
        assert shape["color"] in PALETTE
        assert clearance(logo, Box(*shape["box"])) >= result.layout["clear_space_px"]
    assert {shape["color"] for shape in graphic} <= set(result.layout["colors_used"])


@pytest.mark.parametrize(("width", "height"), [(1200, 628), (1080, 1920)])
def test_seeds_give_different_graphics_and_the_same_seed_the_same_bytes(width: int, height: int) -> None:
    crops = []
    for index in range(6):
        seed = graphic_seed(width, height, index)
        result = render(width, height, seed)
        media = media_box(result)
        crops.append(pixels(result)[media.y:media.bottom, media.x:media.right].tobytes())
        assert render(width, height, seed).data == result.data
    assert len(set(crops)) == 6


def test_imagery_still_fills_the_picture_area_without_a_graphic() -> None:
    photo = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG")
    for seed in range(6):
        result = render(1200, 628, seed, imagery=buffer.getvalue())
        assert not any(shape["name"] in ("graphic", "media") for shape in result.layout["shapes"])
        shares = color_shares(pixels(result))
        off_palette = sum(share for color, share in shares.items() if color not in PALETTE)
        assert off_palette > 0.3


def test_a_single_colour_palette_keeps_a_flat_picture_area() -> None:
    result = render(1200, 628, 0, palette=("#3B2314",))
    assert not any(shape["name"] == "graphic" for shape in result.layout["shapes"])


@pytest.mark.parametrize("seed", range(6))
def test_the_story_gives_the_graphic_the_copy_parts_empty_height(seed: int) -> None:
    result = render(1080, 1920, stack_seed(seed), logo=logo_png())
    assert result.layout["template"] == "stack"
    media = media_box(result)
    assert media.h > round(DEFAULT_MEDIA_SHARE * 1920)
    # No long run of rows is a single flat colour: copy and graphic share the canvas.
    image = pixels(result)
    flat_rows = (image == image[:, :1]).all(axis=(1, 2))
    longest = run = 0
    for flat in flat_rows:
        run = run + 1 if flat else 0
        longest = max(longest, run)
    assert longest < 0.2 * 1920, longest
    for entry in result.layout["text_boxes"]:
        assert not Box(*entry["box"]).intersects(media)


@pytest.mark.parametrize("styles", [LOUD_STYLES, QUIET_STYLES])
def test_style_for_walks_the_brands_styles_over_the_seeds(styles: tuple[str, ...]) -> None:
    for template in TEMPLATES:
        assert sorted(style_for(template, seed, styles, len(styles)) for seed in range(len(styles))) == sorted(styles)
        assert {style_for(template, seed, styles, 2) for seed in range(6)} == set(styles[:2])


def test_graphic_colors_put_the_base_first_and_the_avoided_last() -> None:
    assert graphic_colors("#C8A27A", PALETTE, last=("#3B2314",)) == ("#C8A27A", "#F4EDE4", "#D9482B", "#3B2314")


@given(width=st.integers(1, 900), height=st.integers(1, 900), across=st.integers(1, 5))
def test_grid_tiles_the_area_exactly(width: int, height: int, across: int) -> None:
    xs, ys = grid(width, height, across)
    assert xs[0] == ys[0] == 0
    assert (xs[-1], ys[-1]) == (width, height)
    assert xs == sorted(xs)
    assert ys == sorted(ys)


@settings(max_examples=40, deadline=None)
@given(
    width=st.integers(1, 400), height=st.integers(1, 400),
    colors=st.lists(st.integers(0, 0xFFFFFF).map(lambda value: f"#{value:06X}"), min_size=1, max_size=5, unique=True),
    style=st.sampled_from(STYLES), seed=st.integers(0, 20),
    keep_out=st.one_of(st.none(), st.tuples(st.integers(-50, 450), st.integers(-50, 450), st.integers(1, 300),
                                            st.integers(1, 300))),
)
def test_draw_graphic_paints_palette_colours_only_inside_its_area_and_clear_of_the_keep_out(
        width: int, height: int, colors: list[str], style: str, seed: int,
        keep_out: tuple[int, int, int, int] | None) -> None:
    canvas = Image.new("RGB", (width + 40, height + 40), (1, 2, 3))
    area = Box(20, 20, width, height)
    keep = Box(*keep_out) if keep_out else None
    graphic = draw_graphic(canvas, area, colors, style, seed, keep)
    image = np.asarray(canvas)
    outside = image.copy()
    outside[area.y:area.bottom, area.x:area.right] = (1, 2, 3)
    assert (outside == (1, 2, 3)).all()  # nothing drawn outside the area
    if graphic is None:
        assert (image == (1, 2, 3)).all()
        return
    inside = color_shares(image[area.y:area.bottom, area.x:area.right])
    assert set(inside) <= set(colors)
    assert set(graphic.colors) == set(inside)
    assert graphic.colors[0] == colors[0]
    assert sum(region.area for region in graphic.regions) + (graphic.quiet.area if graphic.quiet else 0) == area.area
    for region in graphic.regions:
        assert area.contains(region)
        assert keep is None or not region.intersects(keep)
    if keep is not None and (reach := area.intersection(keep)) is not None:
        quiet = image[reach.y:reach.bottom, reach.x:reach.right]
        assert color_shares(quiet) == {colors[0].upper(): 1.0}  # the logo's clear space stays the plain base


def test_draw_graphic_is_deterministic() -> None:
    first, second = (Image.new("RGB", (500, 300)) for _ in range(2))
    for image in (first, second):
        draw_graphic(image, Box(0, 0, 500, 300), PALETTE, "tiles", 4, Box(380, 200, 120, 100))
    assert first.tobytes() == second.tobytes()
