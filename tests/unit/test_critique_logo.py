"""Logo matching (sgd.critique.logo.find_logo) and the clear-space check, on the example kits' logos and on
synthetic logos (a two-colour wordmark-like mark with transparent gaps, a single-colour mark)."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw
from sgd.critique.logo import (
    ClearSpace,
    LogoMatch,
    PreparedLogo,
    check_clear_space,
    find_logo,
    prepare_logo,
)
from sgd.critique.logo_snap import snap_box
from sgd.critique.policy import load_critique_policy
from sgd.design.colorimetry import ciede2000, srgb_to_lab

ROOT = Path(__file__).resolve().parents[2]
BRANDS = sorted((ROOT / "examples" / "brands").glob("*/logo.png"))
POLICY = load_critique_policy()
# Backgrounds for synthetic placements: the example kits' palettes plus common design colours.
BACKGROUNDS = ["#FFFFFF", "#1A1A1A", "#0B3D91", "#FFB81C", "#F5EBE0", "#C8A27A", "#3B2314", "#E63946",
               "#2A9D8F", "#F1FAEE", "#6C757D", "#000000"]


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _wordmark() -> Image.Image:
    """A non-square, two-colour logo with transparent gaps between its parts (like letters of a wordmark)."""
    logo = Image.new("RGBA", (330, 96), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.ellipse((4, 4, 88, 88), fill=(230, 57, 70, 255))
    draw.rectangle((30, 30, 62, 62), fill=(255, 255, 255, 255))
    for i, x in enumerate(range(110, 320, 52)):
        draw.rectangle((x, 14 + 6 * (i % 2), x + 36, 84), fill=(29, 53, 87, 255))
        draw.rectangle((x + 12, 30, x + 24, 70), fill=(0, 0, 0, 0))
    return logo


def _single_colour_mark() -> Image.Image:
    """One flat colour; the shape lives only in the alpha channel."""
    logo = Image.new("RGBA", (200, 140), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.polygon([(0, 140), (100, 0), (200, 140), (150, 140), (100, 70), (50, 140)], fill=(42, 157, 143, 255))
    return logo


SYNTHETIC = {"wordmark": _png(_wordmark()), "single_colour": _png(_single_colour_mark())}
LOGOS = {path.parent.name: path.read_bytes() for path in BRANDS} | SYNTHETIC


def _footprint(logo_png: bytes) -> Image.Image:
    logo = Image.open(io.BytesIO(logo_png)).convert("RGBA")
    return logo.crop(logo.getchannel("A").getbbox())


def _scaled(logo_png: bytes, width: int) -> Image.Image:
    """The footprint resized the way a design tool does (premultiplied, Lanczos)."""
    footprint = _footprint(logo_png)
    height = max(1, round(width * footprint.height / footprint.width))
    return footprint.convert("RGBa").resize((width, height), Image.Resampling.LANCZOS).convert("RGBA")


def _edge_lab(logo_png: bytes) -> np.ndarray:
    """CIELAB of the logo's outermost opaque ring (what a background must differ from for the edge to show)."""
    pixels = np.asarray(_footprint(logo_png))
    alpha = pixels[..., 3] > 250
    interior = alpha.copy()
    interior[1:-1, 1:-1] &= alpha[:-2, 1:-1] & alpha[2:, 1:-1] & alpha[1:-1, :-2] & alpha[1:-1, 2:]
    edge = alpha & ~interior if (alpha & ~interior).any() else alpha
    return srgb_to_lab(pixels[..., :3][edge].astype(np.float64))


def _visible_on(logo_png: bytes, background: str) -> bool:
    """The logo's outline differs from the background clearly, in lightness too (the coarse search works in
    luminance: an outline that differs only in hue is a documented limitation), all the way round: a part of the
    logo in the background's own colour is not there to find (the wordmark's red disc on #E63946 leaves its bars,
    and the box and scale the critic reports are theirs)."""
    colour = srgb_to_lab(np.array([int(background[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float64))
    edge = _edge_lab(logo_png)
    return float(np.percentile(ciede2000(edge, colour), 5)) > 15 and \
        abs(float(np.median(edge[:, 0])) - colour[0]) > 12


def _place(logo: Image.Image, canvas: tuple[int, int], at: tuple[int, int], background: str) -> np.ndarray:
    design = Image.new("RGB", canvas, background)
    design.paste(logo, at, logo)
    return np.asarray(design)


def _close(box: tuple[int, int, int, int], expected: tuple[int, int, int, int], tolerance: int = 2) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(box, expected, strict=True))


# --- prepare_logo -------------------------------------------------------------------------------------------------


def test_prepare_logo_crops_to_the_footprint_and_caches_by_content() -> None:
    prepared = prepare_logo(SYNTHETIC["wordmark"])
    assert isinstance(prepared, PreparedLogo)
    assert (prepared.width, prepared.height) == _footprint(SYNTHETIC["wordmark"]).size
    assert prepare_logo(bytes(SYNTHETIC["wordmark"])) is prepared


@pytest.mark.parametrize("data", [b"not an image", b"\x89PNG\r\n\x1a\n" + b"\0" * 40,
                                  _png(Image.new("RGBA", (64, 64), (255, 0, 0, 0))),
                                  _png(Image.new("RGBA", (64, 2), (255, 0, 0, 255)))],
                         ids=["garbage", "truncated", "fully-transparent", "too-thin"])
def test_prepare_logo_refuses_unusable_files(data: bytes) -> None:
    assert prepare_logo(data) is None


# --- find_logo ----------------------------------------------------------------------------------------------------


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(LOGOS)), background=st.sampled_from(BACKGROUNDS),
       canvas=st.sampled_from([(640, 640), (800, 420), (420, 760)]),
       width_share=st.floats(min_value=0.06, max_value=0.4), x_share=st.floats(0, 1), y_share=st.floats(0, 1))
def test_finds_the_logo_at_any_position_and_scale(name: str, background: str, canvas: tuple[int, int],
                                                  width_share: float, x_share: float, y_share: float) -> None:
    logo_png = LOGOS[name]
    if not _visible_on(logo_png, background):
        return  # the footprint's edge is invisible on this colour: no pixel could place it
    logo = _scaled(logo_png, max(12, round(width_share * min(canvas))))
    at = (round(x_share * (canvas[0] - logo.width)), round(y_share * (canvas[1] - logo.height)))
    design = _place(logo, canvas, at, background)
    match = find_logo(design, prepare_logo(logo_png), POLICY)
    assert match is not None, (name, background, at, logo.size)
    assert _close(match.box, (*at, *logo.size)), (match, at, logo.size)
    assert match.score >= POLICY.logo_match_min_score
    assert match.scale == pytest.approx(logo.width / _footprint(logo_png).width, rel=0.05)


@pytest.mark.parametrize("name", sorted(LOGOS))
def test_finds_the_logo_on_a_plate_among_other_elements(name: str) -> None:
    logo = _scaled(LOGOS[name], 150)
    design = Image.new("RGB", (900, 700), "#F1FAEE")
    draw = ImageDraw.Draw(design)
    draw.rectangle((0, 500, 900, 700), fill="#0B3D91")
    draw.rectangle((60, 300, 700, 360), fill="#1A1A1A")  # a text-like bar
    draw.rectangle((560, 40, 560 + logo.width + 40, 40 + logo.height + 40), fill="#FFB81C")  # the plate
    design.paste(logo, (580, 60), logo)
    match = find_logo(np.asarray(design), prepare_logo(LOGOS[name]), POLICY)
    assert match is not None
    assert _close(match.box, (580, 60, *logo.size))


def test_finds_the_logo_in_a_jpeg() -> None:
    logo = _scaled(LOGOS["wordmark"], 240)
    buffer = io.BytesIO()
    Image.fromarray(_place(logo, (800, 800), (300, 420), "#F5EBE0")).save(buffer, format="JPEG", quality=80)
    design = np.asarray(Image.open(buffer).convert("RGB"))
    match = find_logo(design, prepare_logo(LOGOS["wordmark"]), POLICY)
    assert match is not None
    assert _close(match.box, (300, 420, *logo.size))


def _recoloured(logo_png: bytes, how: str) -> Image.Image:
    pixels = np.asarray(_footprint(logo_png)).copy()
    rgb = pixels[..., :3]
    if how == "channels-swapped":
        pixels[..., :3] = rgb[..., ::-1]
    elif how == "inverted":
        pixels[..., :3] = 255 - rgb
    elif how == "darkened":
        pixels[..., :3] = (rgb * 0.55).astype(np.uint8)
    else:  # hue rotated by a channel cycle
        pixels[..., :3] = rgb[..., [1, 2, 0]]
    return Image.fromarray(pixels, "RGBA")


@pytest.mark.parametrize("how", ["channels-swapped", "inverted", "darkened", "rotated"])
@pytest.mark.parametrize("name", sorted(LOGOS))
def test_a_recoloured_logo_is_not_a_match(name: str, how: str) -> None:
    recoloured = _recoloured(LOGOS[name], how)
    if np.array_equal(np.asarray(recoloured), np.asarray(_footprint(LOGOS[name]))):
        pytest.skip("this recolouring leaves the logo unchanged")
    logo = _scaled(_png(recoloured), 180)
    for background in ("#FFFFFF", "#1A1A1A", "#F5EBE0"):
        design = _place(logo, (720, 720), (200, 150), background)
        assert find_logo(design, prepare_logo(LOGOS[name]), POLICY) is None, background


@pytest.mark.parametrize("name", sorted(LOGOS))
def test_another_brands_logo_or_no_logo_is_not_a_match(name: str) -> None:
    for other in sorted(set(LOGOS) - {name}):
        design = _place(_scaled(LOGOS[other], 200), (800, 800), (120, 90), "#F1FAEE")
        assert find_logo(design, prepare_logo(LOGOS[name]), POLICY) is None, other
    plain = Image.new("RGB", (1080, 1080), "#1A1A1A")
    draw = ImageDraw.Draw(plain)
    draw.rectangle((90, 500, 800, 580), fill="#FFFFFF")
    draw.ellipse((700, 100, 900, 300), fill="#FFB81C")
    draw.rectangle((0, 880, 1080, 1080), fill="#0B3D91")
    assert find_logo(np.asarray(plain), prepare_logo(LOGOS[name]), POLICY) is None


def test_a_logo_smaller_than_the_policy_minimum_is_not_searched() -> None:
    logo = _scaled(LOGOS["wordmark"], round(0.5 * POLICY.logo_min_width_pct / 100 * 1000))
    design = _place(logo, (1000, 1000), (400, 400), "#FFFFFF")
    assert find_logo(design, prepare_logo(LOGOS["wordmark"]), POLICY) is None


def test_excluded_regions_are_skipped() -> None:
    logo = _scaled(LOGOS["wordmark"], 200)
    design = _place(logo, (700, 700), (100, 100), "#FFFFFF")
    prepared = prepare_logo(LOGOS["wordmark"])
    assert find_logo(design, prepared, POLICY, exclude=[[400, 400, 200, 200]]) is not None
    assert find_logo(design, prepared, POLICY, exclude=[[90, 90, 230, 100]]) is None


LABELLED = [(brand_dir.name, name, label)
            for brand_dir in sorted((ROOT / "examples" / "brands").iterdir()) if (brand_dir / "logo.png").exists()
            for name, label in json.loads((brand_dir / "critique" / "labels.json").read_text()).items()]


@pytest.mark.parametrize(("brand", "design_name", "label"), LABELLED, ids=[f"{b}/{n}" for b, n, _ in LABELLED])
def test_labelled_designs_logo_box_and_clear_space(brand: str, design_name: str, label: dict) -> None:
    folder = ROOT / "examples" / "brands" / brand
    design = np.asarray(Image.open(folder / "critique" / design_name).convert("RGB"))
    match = find_logo(design, prepare_logo((folder / "logo.png").read_bytes()), POLICY)
    assert isinstance(match, LogoMatch)
    # The label is the pasted logo image's box; the visible footprint's every edge lies within 2 px of it (its
    # outermost anti-aliased pixels, a few levels from the background, are not the logo's footprint).
    x, y, w, h = match.box
    assert _close((x, y, x + w, y + h), tuple(label["logo_box"]))
    clear = check_clear_space(design, match.box, label["safe_zone_pct"], POLICY)
    assert bool(clear.violations) == ("logo_safe_zone" in label["violations"])


# --- clear space ------------------------------------------------------------------------------------------------


def _canvas_with_box(size: tuple[int, int], box: tuple[int, int, int, int], background: str = "#F5EBE0",
                     colour: str = "#3B2314") -> Image.Image:
    canvas = Image.new("RGB", size, background)
    x, y, w, h = box
    ImageDraw.Draw(canvas).ellipse((x, y, x + w - 1, y + h - 1), fill=colour)
    return canvas


EDGE_BOXES = {"left": (20, 400, 120, 120), "top": (400, 5, 120, 120), "right": (1080 - 120 - 30, 400, 120, 120),
              "bottom": (400, 1080 - 120 - 60, 120, 120)}


@pytest.mark.parametrize("side", sorted(EDGE_BOXES))
@pytest.mark.parametrize("with_elements", [True, False], ids=["layout", "pixels"])
def test_clear_space_violation_at_each_edge(side: str, with_elements: bool) -> None:
    box = EDGE_BOXES[side]
    canvas = np.asarray(_canvas_with_box((1080, 1080), box))
    clear = check_clear_space(canvas, box, 10, POLICY, elements=[] if with_elements else None)
    assert clear.required_px == pytest.approx(108.0)
    assert [k for k, v in clear.edge_distances_px.items() if v < 107] == [side]
    (finding,) = clear.violations
    assert finding["kind"] == "logo_safe_zone"
    assert finding["severity"] == "medium"
    assert f"from the {side} edge" in finding["message"]
    assert "108 px (10% of the shorter side)" in finding["message"]
    assert clear.intrusions == []
    assert clear.nearest_element_px is None
    assert json.loads(json.dumps(clear.as_check()))["ok"] is False


@pytest.mark.parametrize("placement", ["touching", "crossing"])
def test_a_logo_touching_or_crossing_the_edge_is_high(placement: str) -> None:
    box = (0, 300, 100, 100) if placement == "touching" else (-20, 300, 100, 100)
    canvas = np.asarray(_canvas_with_box((800, 800), box))
    (finding,) = check_clear_space(canvas, box, 8, POLICY, elements=[]).violations
    assert finding["severity"] == "high"
    assert "left edge" in finding["message"]


def test_rounding_tolerance_is_one_pixel_and_no_more() -> None:
    # 1080 * 8% = 86.4 px required: 86 passes (rounding), 85 does not.
    for distance, ok in ((86, True), (85, False)):
        box = (int(distance), 500, 100, 100)
        canvas = np.asarray(_canvas_with_box((1080, 1080), box))
        clear = check_clear_space(canvas, box, 8, POLICY)
        assert (not clear.violations) is ok, distance


LOGO_BOX = (440, 440, 200, 200)
INTRUDERS = {"left": (280, 470, 120, 60), "right": (690, 500, 150, 40), "top": (300, 350, 500, 40),
             "bottom": (500, 700, 60, 200)}


@pytest.mark.parametrize("side", sorted(INTRUDERS))
@pytest.mark.parametrize("with_elements", [True, False], ids=["layout", "pixels"])
def test_an_element_intruding_from_each_side(side: str, with_elements: bool) -> None:
    canvas = _canvas_with_box((1080, 1080), LOGO_BOX)
    ex, ey, ew, eh = INTRUDERS[side]
    ImageDraw.Draw(canvas).rectangle((ex, ey, ex + ew - 1, ey + eh - 1), fill="#C8A27A")
    expected_gap = {"left": 440 - 400, "right": 690 - 640, "top": 440 - 390, "bottom": 700 - 640}[side]
    clear = check_clear_space(np.asarray(canvas), LOGO_BOX, 10, POLICY,
                              elements=[INTRUDERS[side]] if with_elements else None)
    assert clear.nearest_element_px == pytest.approx(expected_gap, abs=1)
    (finding,) = clear.violations
    assert finding["severity"] == "medium"
    assert f"on its {side}" in finding["message"]
    assert f"{expected_gap} px from the logo" in finding["message"]
    assert finding["box"] == [440 - 108, 440 - 108, 200 + 216, 200 + 216]
    (intrusion,) = clear.intrusions
    assert _intersects(intrusion, INTRUDERS[side])


def _intersects(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_an_element_overlapping_the_logo_is_high() -> None:
    canvas = _canvas_with_box((1080, 1080), LOGO_BOX)
    clear = check_clear_space(np.asarray(canvas), LOGO_BOX, 10, POLICY, elements=[[600, 600, 200, 80]])
    (finding,) = clear.violations
    assert finding["severity"] == "high"
    assert "overlaps" in finding["message"]
    assert clear.nearest_element_px is not None
    assert clear.nearest_element_px <= 0


def test_elements_far_away_or_under_the_logo_are_not_intrusions() -> None:
    canvas = np.asarray(_canvas_with_box((1080, 1080), LOGO_BOX))
    plate = [420, 420, 240, 240]  # contains the logo: its plate
    clear = check_clear_space(canvas, LOGO_BOX, 10, POLICY, elements=[plate, [0, 900, 1080, 180], [800, 100, 40, 40]])
    assert clear.violations == []
    assert clear.intrusions == []
    assert clear.as_check()["ok"] is True


def test_fringes_and_specks_in_the_zone_are_ignored() -> None:
    canvas = _canvas_with_box((1080, 1080), LOGO_BOX)
    pixels = np.asarray(canvas).copy()
    x, y, w, h = LOGO_BOX
    pixels[y - 1, x + 20:x + w - 20] = (150, 120, 100)  # a one-pixel anti-aliasing fringe just outside the box
    pixels[y + 30:y + h - 30, x + w] = (180, 150, 120)
    rng = np.random.default_rng(7)
    for _ in range(40):  # isolated specks (noise, dust)
        sx, sy = rng.integers(x - 100, x + w + 100), rng.integers(y - 100, y - 10)
        pixels[sy, sx] = (60, 40, 30)
    pixels += rng.integers(0, 4, pixels.shape, dtype=np.uint8)  # mild sensor/compression noise
    clear = check_clear_space(pixels, LOGO_BOX, 10, POLICY)
    assert clear.violations == []
    assert clear.intrusions == []


@settings(max_examples=12, deadline=None)
@given(background=st.sampled_from(BACKGROUNDS), pct=st.floats(min_value=2, max_value=20),
       size=st.sampled_from([(1080, 1080), (1200, 628), (628, 1200)]))
def test_on_brand_placements_pass(background: str, pct: float, size: tuple[int, int]) -> None:
    required = pct / 100 * min(size)
    side = 0.12 * min(size)
    inset = int(np.ceil(required)) + 2
    for corner_x, corner_y in ((inset, inset), (size[0] - inset - side, size[1] - inset - side)):
        box = (int(corner_x), int(corner_y), int(side), int(side))
        canvas = _canvas_with_box(size, box, background=background,
                                  colour="#FFFFFF" if background != "#FFFFFF" else "#000000")
        clear = check_clear_space(np.asarray(canvas), box, pct, POLICY)
        assert isinstance(clear, ClearSpace)
        assert clear.violations == [], clear


# --- clear space: a plate or panel behind the logo (pixel path) -------------------------------------------------


def _plated(size: tuple[int, int], logo_box: tuple[int, int, int, int], pad: int, *, background: str = "#3B2314",
            plate: str = "#F5EBE0", mark: str = "#1A1A1A") -> Image.Image:
    """A logo-like mark on a plate `pad` px larger than the logo box on every side (like SGD's engine draws when the
    logo's contrast on the background is poor)."""
    canvas = Image.new("RGB", size, background)
    x, y, w, h = logo_box
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((x - pad, y - pad, x + w + pad - 1, y + h + pad - 1), fill=plate)
    draw.ellipse((x, y, x + w - 1, y + h - 1), fill=mark)
    return canvas


def _encoded(image: Image.Image, image_format: str) -> np.ndarray:
    if image_format == "png":
        return np.asarray(image)
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, quality=90)
    return np.asarray(Image.open(buffer).convert("RGB"))


@pytest.mark.parametrize("image_format", ["png", "jpeg", "webp"])
@pytest.mark.parametrize("pad", [6, 19, 60], ids=["thin-plate", "plate", "plate-filling-the-zone"])
def test_a_plate_behind_the_logo_is_its_background_not_an_intrusion(image_format: str, pad: int) -> None:
    plated = _encoded(_plated((1080, 1080), LOGO_BOX, pad), image_format)
    clear = check_clear_space(plated, LOGO_BOX, 8, POLICY)
    assert clear.violations == [], clear.intrusions
    assert clear.nearest_element_px is None


@pytest.mark.parametrize("image_format", ["png", "webp"])
@pytest.mark.parametrize(("element", "gap", "side"), [
    ((690, 480, 60, 120), 50, "right"),  # on the canvas beyond the plate
    ((440, 650, 200, 12), 10, "bottom"),  # on the plate itself, between the logo and the plate's edge
], ids=["beyond-the-plate", "on-the-plate"])
def test_an_element_beside_a_plated_logo_still_intrudes(image_format: str, element: tuple[int, int, int, int],
                                                        gap: int, side: str) -> None:
    canvas = _plated((1080, 1080), LOGO_BOX, 20)
    ex, ey, ew, eh = element
    ImageDraw.Draw(canvas).rectangle((ex, ey, ex + ew - 1, ey + eh - 1), fill="#C8A27A")
    clear = check_clear_space(_encoded(canvas, image_format), LOGO_BOX, 10, POLICY)
    (finding,) = clear.violations
    assert f"on its {side}" in finding["message"]
    assert clear.nearest_element_px == pytest.approx(gap, abs=1)
    assert any(_intersects(intrusion, element) for intrusion in clear.intrusions)


def test_a_logo_on_a_photo_keeps_the_strict_check() -> None:
    """No single colour surrounds the logo: every other colour in the zone is an element, as before."""
    rng = np.random.default_rng(3)
    pixels = np.asarray(_canvas_with_box((1080, 1080), LOGO_BOX)).copy()
    x, y, w, h = LOGO_BOX
    pixels[y - 30:y + h + 30, x - 30:x + w // 2] = rng.integers(0, 256, (h + 60, w // 2 + 30, 3), dtype=np.uint8)
    clear = check_clear_space(pixels, LOGO_BOX, 10, POLICY)
    assert clear.violations
    assert clear.nearest_element_px == 0


# --- the logo on any background, and a missing logo -------------------------------------------------------------


def _knockout(logo: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    """The logo's silhouette in one colour (alpha kept)."""
    out = Image.new("RGBA", logo.size, (*colour, 0))
    out.putalpha(logo.getchannel("A"))
    return Image.composite(Image.new("RGBA", logo.size, (*colour, 255)), out, logo.getchannel("A"))


def test_a_knockout_logo_on_a_dark_panel_touching_the_edge_is_found_and_reported() -> None:
    from sgd.critique.measure import measure_design

    logo = _wordmark()
    design = Image.new("RGB", (1080, 1080), "#F1FAEE")
    ImageDraw.Draw(design).rectangle((0, 700, 500, 1080), fill="#1D3557")
    mark = _knockout(logo.resize((300, 87)), (255, 255, 255))
    design.paste(mark, (0, 900), mark)
    canon = {"palette_hex": ["#F1FAEE", "#1D3557", "#FFFFFF", "#E63946"], "logo_safe_zone_pct": 5}
    measured = measure_design(design, canon, POLICY, logo=prepare_logo(_png(logo)))  # type: ignore[arg-type]
    check = measured.checks["logo_safe_zone"]
    assert check["found"] is True
    assert check["match"] == "shape"
    assert check["colours"] == "knockout"
    assert check["ok"] is False
    assert any("left edge" in v["message"] for v in measured.violations if v["kind"] == "logo_safe_zone")


def test_a_missing_logo_is_a_finding_and_never_ok() -> None:
    from sgd.critique.measure import measure_design

    design = Image.new("RGB", (800, 800), "#F1FAEE")
    ImageDraw.Draw(design).ellipse((300, 300, 380, 380), fill="#E63946")  # a disc, not the logo
    canon = {"palette_hex": ["#F1FAEE", "#E63946", "#1D3557", "#FFFFFF"], "logo_safe_zone_pct": 5}
    measured = measure_design(design, canon, POLICY, logo=prepare_logo(SYNTHETIC["wordmark"]))  # type: ignore
    assert measured.checks["logo_safe_zone"]["ok"] is False
    (finding,) = [v for v in measured.violations if v["kind"] == "logo_safe_zone"]
    assert finding["message"].startswith("Logo missing or unrecognisable")
    assert finding["severity"] == POLICY.logo_required["external"]


def test_a_recoloured_logo_is_found_by_its_shape_and_reported() -> None:
    from sgd.critique.measure import measure_design

    logo = _wordmark()
    pixels = np.asarray(logo).copy()
    pixels[..., :3] = pixels[..., [1, 2, 0]]  # the channels turned: other hues, same shape
    design = Image.new("RGB", (1080, 1080), "#FFFFFF")
    recoloured = Image.fromarray(pixels, "RGBA").resize((330, 96))
    design.paste(recoloured, (375, 490), recoloured)
    canon = {"palette_hex": ["#FFFFFF", "#E63946", "#1D3557"], "logo_safe_zone_pct": 5}
    measured = measure_design(design, canon, POLICY, logo=prepare_logo(_png(logo)))  # type: ignore[arg-type]
    assert measured.checks["logo_safe_zone"]["colours"] == "recoloured"
    assert any("recoloured" in v["message"] for v in measured.violations)


@pytest.mark.parametrize("short_by", [1, 3])
@pytest.mark.parametrize("image_format", ["png", "jpeg"])
def test_the_logos_own_rim_past_its_found_box_is_not_an_element(short_by: int, image_format: str) -> None:
    """A found box may stop a pixel or few short of the logo's anti-aliased (or ringing) edge: that rim is the logo,
    not another element touching it; an element as close but beyond the rim still intrudes."""
    canvas = _canvas_with_box((1080, 1080), LOGO_BOX)
    found = (LOGO_BOX[0] + short_by, LOGO_BOX[1] + short_by, LOGO_BOX[2] - 2 * short_by, LOGO_BOX[3] - 2 * short_by)
    clear = check_clear_space(_encoded(canvas, image_format), found, 10, POLICY)
    assert clear.violations == [], clear.intrusions
    ImageDraw.Draw(canvas).rectangle((LOGO_BOX[0] + 200 + 2, 500, LOGO_BOX[0] + 200 + 60, 560), fill="#C8A27A")
    clear = check_clear_space(_encoded(canvas, image_format), found, 10, POLICY)
    assert clear.violations
    assert "on its right" in clear.violations[0]["message"]


def test_a_weak_colour_match_elsewhere_does_not_hide_the_knocked_out_logo() -> None:
    """A ring of a brand graphic in the logo's colours can pass the colour fit weakly; it must also have the logo's
    shape, else the shape search finds the knocked-out logo itself."""
    from sgd.critique.logo_locate import locate_logo
    from sgd.design.logo import knockout_mask

    logo_png = BRANDS[0].read_bytes()  # helio-energy: a blue disc, a yellow ring and an H
    canvas = Image.new("RGB", (1080, 1080), "#1A1A1A")
    draw = ImageDraw.Draw(canvas)
    draw.ellipse((120, 120, 196, 196), fill="#FFB81C")  # a yellow ring with blue inside: a graphic, not the logo
    draw.ellipse((134, 134, 182, 182), fill="#0B3D91")
    scaled = np.asarray(_scaled(logo_png, 160)).astype(np.float64)
    luminance = (scaled[..., :3] / 255) ** 2.2 @ np.array([0.2126, 0.7152, 0.0722])
    canvas.paste((255, 255, 255), (830, 830), knockout_mask(luminance, scaled[..., 3]))  # the engine's knockout
    rgb = np.asarray(canvas)
    box, check, findings, _ = locate_logo(rgb, {"palette_hex": ["#0B3D91", "#FFB81C", "#1A1A1A", "#FFFFFF"]},
                                          POLICY, None, prepare_logo(logo_png))
    assert box is not None, check
    assert _intersects(box, (830, 830, 160, 160)), check
    assert not findings


@pytest.mark.parametrize("image_format", ["png", "jpeg"])
def test_beyond_the_edge_of_a_panel_holding_the_logo_is_not_an_element(image_format: str) -> None:
    """A logo in the corner of a large panel whose edge passes inside the clear zone: the panel contains the logo
    (a render's layout says the same), and the canvas beyond its edge is the surface it lies on. A shape on the
    panel inside the zone still intrudes."""
    canvas = Image.new("RGB", (1080, 1080), "#FFFFFF")
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((100, 100, LOGO_BOX[0] + LOGO_BOX[2] + 30 - 1, LOGO_BOX[1] + LOGO_BOX[3] + 200), fill="#0B3D91")
    draw.ellipse((LOGO_BOX[0], LOGO_BOX[1], LOGO_BOX[0] + LOGO_BOX[2] - 1, LOGO_BOX[1] + LOGO_BOX[3] - 1),
                 fill="#FFB81C")
    clear = check_clear_space(_encoded(canvas, image_format), LOGO_BOX, 10, POLICY)
    assert clear.violations == [], clear.intrusions
    draw.rectangle((LOGO_BOX[0] - 60, LOGO_BOX[1] + 50, LOGO_BOX[0] - 30, LOGO_BOX[1] + 120), fill="#FFB81C")
    clear = check_clear_space(_encoded(canvas, image_format), LOGO_BOX, 10, POLICY)
    (finding,) = clear.violations
    assert "on its left" in finding["message"]


# --- re-encoded and resized copies of a clean design -------------------------------------------------------------


@pytest.mark.parametrize("factor", [0.5, 0.75])
def test_a_resized_copy_keeps_the_logos_box_and_its_clear_space(factor: float) -> None:
    """Lanczos overshoots past the logo's edge (a darker ring around a white disc, then a faint lighter one): that
    is not the logo's footprint. A design whose logo just keeps its clear space still keeps it resized."""
    logo_png = BRANDS[0].read_bytes()  # helio-energy
    size, logo_width, required_pct = 1080, 160, 8.0
    margin = math.ceil(required_pct / 100 * size) + 1  # 88 px: 1.6 px to spare at full size
    design = Image.new("RGB", (size, size), "#0B3D91")
    mark = _knockout(_scaled(logo_png, logo_width), (255, 255, 255))
    at = size - margin - logo_width
    design.paste(mark, (at, at), mark)
    small = design.resize((round(size * factor), round(size * factor)), Image.Resampling.LANCZOS)
    rgb = np.asarray(small)
    box = snap_box(rgb, prepare_logo(logo_png), (at * factor, at * factor, logo_width * factor,
                                                 logo_width * factor))
    expected = (at * factor, at * factor, (at + logo_width) * factor, (at + logo_width) * factor)
    assert all(abs(found - wanted) <= 1 for found, wanted in
               zip((box[0], box[1], box[0] + box[2], box[1] + box[3]), expected, strict=True)), (box, expected)
    assert check_clear_space(rgb, box, required_pct, POLICY).violations == []


@pytest.mark.parametrize("quality", [60, 75, 90])
def test_codec_ringing_next_to_an_element_outside_the_zone_is_not_an_intrusion(quality: int) -> None:
    """A JPEG rings a block or two around a saturated button's corner, into the logo's clear zone: not an element
    there. The same button moved 10 px into the zone intrudes."""
    def design(button_right: int) -> np.ndarray:
        canvas = Image.new("RGB", (1200, 628), "#0E3B8F")
        draw = ImageDraw.Draw(canvas)
        draw.rounded_rectangle((button_right - 210, 500, button_right, 588), radius=8, fill="#FDBA1C")
        draw.ellipse((1053, 481, 1148, 576), fill="#FFFFFF")
        buffer = io.BytesIO()
        canvas.save(buffer, format="JPEG", quality=quality)
        return np.asarray(Image.open(buffer).convert("RGB"))

    required = 0.08 * 628  # 50.24 px: the zone's left edge at x = 1002.76
    assert check_clear_space(design(1053 - 55), (1053, 481, 96, 96), 8, POLICY, lossy=True).violations == []
    (finding,) = check_clear_space(design(1053 - 42), (1053, 481, 96, 96), 8, POLICY, lossy=True).violations
    assert f"{required:.0f} px" in finding["message"]
    assert "on its left" in finding["message"]


@pytest.mark.parametrize(("font_px", "quality"), [(60, 60), (66, 65), (84, 80)])
def test_ringing_inside_a_letter_does_not_make_it_a_ring_shaped_logo(font_px: int, quality: int) -> None:
    """In a JPEG, ringing inside a bold "o" gives it edges where a ring-shaped logo has its inner mark (and a weak
    colour fit there passes the shape check); the shape search judges edges that stand out from the ringing, and
    finds the logo itself."""
    from sgd.critique.logo_locate import locate_logo
    from sgd.design.fonts import FALLBACK_FAMILY, bundled_family, load_face

    logo_png = BRANDS[0].read_bytes()  # helio-energy: a disc, a ring and an H
    canvas = Image.new("RGB", (1200, 628), "#0E3B8F")
    draw = ImageDraw.Draw(canvas)
    family = bundled_family(FALLBACK_FAMILY)
    assert family is not None
    draw.text((728, 40), "Now event", fill="#FDBA1C", font=load_face(family.file("bold"), font_px))
    from sgd.design.logo import knockout_mask

    scaled = np.asarray(_scaled(logo_png, 96)).astype(np.float64)
    luminance = (scaled[..., :3] / 255) ** 2.2 @ np.array([0.2126, 0.7152, 0.0722])
    canvas.paste((255, 255, 255), (1053, 481), knockout_mask(luminance, scaled[..., 3]))  # the engine's knockout
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=quality)
    rgb = np.asarray(Image.open(buffer).convert("RGB"))
    canon = {"palette_hex": ["#0E3B8F", "#FDBA1C", "#FFFFFF", "#1A1A1A"]}
    box, check, findings, _ = locate_logo(rgb, canon, POLICY, None, prepare_logo(logo_png), lossy=True)  # type: ignore
    assert box is not None, check
    assert _intersects(box, (1053, 481, 96, 96)), check
    assert not findings


def test_a_framed_panel_holding_the_logo_is_its_surface_even_where_it_covers_most_of_the_design() -> None:
    """The canvas is the colour the design's border shows: a panel inside a frame may cover most of the design and
    is still a panel, the frame beyond its edge no element in the logo's clear space. A shape on the panel inside the
    zone intrudes."""
    canvas = Image.new("RGB", (1080, 1080), "#1A1A1A")
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((65, 65, 1014, 1014), fill="#0B3D91")
    draw.ellipse((831, 831, 992, 992), fill="#FFFFFF")
    logo_box = (831, 831, 162, 162)
    assert check_clear_space(np.asarray(canvas), logo_box, 8, POLICY).violations == []
    draw.rectangle((700, 850, 790, 900), fill="#FFB81C")
    (finding,) = check_clear_space(np.asarray(canvas), logo_box, 8, POLICY).violations
    assert "on its left" in finding["message"]


def _turned(logo: Image.Image) -> Image.Image:
    pixels = np.asarray(logo).copy()
    pixels[..., :3] = pixels[..., [1, 2, 0]]  # the channels turned: other hues, same shape
    return Image.fromarray(pixels, "RGBA")


def _one_colour(logo: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    pixels = np.asarray(logo).copy()
    pixels[..., :3] = colour
    return Image.fromarray(pixels, "RGBA")


@pytest.mark.parametrize(("version", "background"), [
    ("multi_colour", "#1D1D1D"),  # a light version in colours of its own, for dark backgrounds
    ("one_colour", "#FFFFFF"),  # a one-colour version in a colour the canon's palette does not list
])
def test_a_logo_version_of_the_canon_is_found_as_that_version(version: str, background: str) -> None:
    """The canon's logo versions (light, dark) are brand logos too: a design that uses one is not "recoloured"
    against the primary logo, and the check says which version was found. Against the primary alone the same
    design reads as recoloured."""
    from sgd.critique.measure import measure_design

    primary = _wordmark()
    shown = _turned(primary) if version == "multi_colour" else _one_colour(primary, (0x7A, 0x6A, 0x5A))
    design = Image.new("RGB", (1080, 1080), background)
    design.paste(shown, (375, 490), shown)
    canon = {"palette_hex": [background, "#E63946", "#1D3557", "#FFFFFF"], "logo_safe_zone_pct": 5}
    alone = measure_design(design, canon, POLICY, logo=prepare_logo(_png(primary)))  # type: ignore[arg-type]
    assert any("recoloured" in v["message"] for v in alone.violations)
    versions = {"logo-light": prepare_logo(_png(shown)), "logo-other": prepare_logo(_png(_turned(shown)))}
    measured = measure_design(design, canon, POLICY, logo=prepare_logo(_png(primary)),  # type: ignore[arg-type]
                              logo_versions=versions)  # type: ignore[arg-type]
    check = measured.checks["logo_safe_zone"]
    assert check["found"] is True, check
    assert check["logo_version"] == "logo-light", check
    assert not [v for v in measured.violations if v["kind"] == "logo_safe_zone"], measured.violations
    left, top, right, bottom = shown.getchannel("A").getbbox() or (0, 0, 0, 0)
    assert _close(tuple(check["logo_box"]), (375 + left, 490 + top, right - left, bottom - top))


def _two_tone(logo_png: bytes, first: tuple[int, int, int], second: tuple[int, int, int]) -> Image.Image:
    """A two-colour logo (a disc with a ring and a letter in a second colour) in two other colours: each pixel's
    place on the blend from the logo's first to its second colour, kept (anti-aliasing included)."""
    pixels = np.asarray(Image.open(io.BytesIO(logo_png)).convert("RGBA")).astype(np.float64)
    opaque = pixels[..., 3] > 250
    colours, counts = np.unique(pixels[opaque][:, :3], axis=0, return_counts=True)
    old_first, old_second = colours[np.argsort(-counts)[:2]]
    direction = old_second - old_first
    share = np.clip((pixels[..., :3] - old_first) @ direction / float(direction @ direction), 0, 1)[..., None]
    pixels[..., :3] = np.array(first) + share * (np.array(second) - np.array(first))
    return Image.fromarray(np.rint(pixels).astype(np.uint8), "RGBA")


@pytest.mark.parametrize(("first", "second", "expected"), [
    ((0x1D, 0x36, 0x31), (0x5F, 0xA0, 0x8C), "recoloured"),  # disc in a canon colour, ring and letter in another hue
    ((0x1D, 0x36, 0x31), (0xF7, 0xF4, 0xEE), "knockout"),  # the ring and letter cut out: the page shows through
])
@pytest.mark.parametrize("width", [84, 100])
def test_a_two_colour_logo_is_recoloured_when_any_part_shows_a_colour_of_its_own(
        first: tuple[int, int, int], second: tuple[int, int, int], expected: str, width: int) -> None:
    """Most of a disc logo's pixels are its disc: a logo whose disc is a canon colour (or its own) but whose thin
    ring and letter show a colour that is neither its ink, the background nor a blend of them was read as a
    one-colour knockout. Each part of the logo's own colours is judged: recoloured. A knockout whose
    ring and letter show the page stays a knockout."""
    from sgd.critique.measure import measure_design

    logo_png = LOGOS["northwind-coffee"]
    mark = _two_tone(logo_png, first, second)
    mark = mark.resize((width, round(width * mark.height / mark.width)), Image.Resampling.LANCZOS)
    design = Image.new("RGB", (800, 800), "#F7F4EE")
    design.paste(mark, (500, 300), mark)
    canon = {"palette_hex": ["#F7F4EE", "#1D3631", "#3B2314", "#C8A27A"], "logo_safe_zone_pct": 5}
    measured = measure_design(design, canon, POLICY, logo=prepare_logo(logo_png))  # type: ignore[arg-type]
    check = measured.checks["logo_safe_zone"]
    assert check["found"] is True, check
    assert check["colours"] == expected, check
    assert any("recoloured" in v["message"] for v in measured.violations) == (expected == "recoloured")
