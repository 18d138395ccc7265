"""Palette adherence: canon colours pass through lossless and lossy encoding; off-palette and forbidden colours are
found with their share and box; photographic areas and thin lossy halos are judged looser."""

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFilter
from sgd.critique.palette import check_palette
from sgd.critique.policy import load_critique_policy
from sgd.design.color import parse_hex
from sgd.design.colorimetry import ciede2000, hex_to_lab

POLICY = load_critique_policy()
CANON = {"palette_hex": ["#0B3D91", "#FFB81C", "#FFFFFF", "#1A1A1A"], "forbidden_hex": ["#FF00FF"]}


def flat_design(palette: list[str], width: int = 600, height: int = 400) -> Image.Image:
    """A design of canon fills, an anti-aliased disc and a line of text."""
    image = Image.new("RGB", (width, height), palette[0])
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height * 3 // 4, width, height), fill=palette[1 % len(palette)])
    layer = Image.new("L", (width * 4, height * 4), 0)
    ImageDraw.Draw(layer).ellipse((width * 2, height // 2, width * 3, height * 2), fill=255)
    disc = layer.resize((width, height), Image.Resampling.LANCZOS)
    image.paste(parse_hex(palette[-1]), (0, 0), disc)
    draw.text((20, 20), "Spring open house", fill=palette[-1], font_size=36)
    return image


def encoded(image: Image.Image, image_format: str) -> np.ndarray:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, quality=85)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP"])
def test_a_design_in_canon_colours_passes_in_every_format(image_format: str) -> None:
    result = check_palette(encoded(flat_design(CANON["palette_hex"]), image_format), CANON, POLICY)
    assert result.violations == []
    assert result.check["on_palette_share"] > 0.9  # the rest are anti-aliased and compressed edges
    assert {cluster["status"] for cluster in result.check["clusters"]} == {"ok"}


def test_an_off_palette_fill_is_reported_with_share_box_and_nearest_canon_colour() -> None:
    image = flat_design(CANON["palette_hex"])
    ImageDraw.Draw(image).rectangle((300, 50, 449, 149), fill="#00C853")  # 150 x 100 = 6.25% of 600 x 400
    result = check_palette(np.asarray(image), CANON, POLICY)
    (finding,) = result.violations
    assert finding["kind"] == "palette"
    assert finding["severity"] == "high"
    assert finding["box"] == [299, 49, 152, 102]  # the fill and the pixel its edge may blend into
    assert "#00C853" in finding["message"]
    assert "recolour" in finding["message"]
    (cluster,) = [cluster for cluster in result.check["clusters"] if cluster["status"] == "off_palette"]
    assert cluster["hex"] == "#00C853"
    assert cluster["share"] == pytest.approx(0.0625, abs=0.004)
    expected = float(ciede2000(hex_to_lab("#00C853"), hex_to_lab(cluster["nearest_hex"])))
    assert cluster["delta_e"] == pytest.approx(expected, abs=0.01)
    assert result.repair_suggestions == [
        f"Replace #00C853 (6% of the canvas) with {cluster['nearest_hex']}, the nearest canon colour"]


def test_one_finding_per_separate_place() -> None:
    image = flat_design(CANON["palette_hex"])
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 120, 99, 199), fill="#00C853")
    draw.rectangle((400, 120, 479, 199), fill="#00C853")
    result = check_palette(np.asarray(image), CANON, POLICY)
    assert sorted(finding["box"] for finding in result.violations) == [[19, 119, 82, 82], [399, 119, 82, 82]]


def test_a_small_drift_within_the_threshold_passes_and_a_larger_one_fails() -> None:
    near, far = "#0D3F92", "#2F5FAF"  # ~0.8 and ~9 CIEDE2000 from #0B3D91
    for colour, fails in ((near, False), (far, True)):
        image = flat_design(CANON["palette_hex"])
        ImageDraw.Draw(image).rectangle((300, 50, 449, 149), fill=colour)
        assert bool(check_palette(np.asarray(image), CANON, POLICY).violations) is fails


def test_forbidden_colours_are_high_even_when_small() -> None:
    image = flat_design(CANON["palette_hex"])
    ImageDraw.Draw(image).rectangle((300, 50, 319, 69), fill="#FF00FF")  # 0.17% of the canvas
    result = check_palette(np.asarray(image), CANON, POLICY)
    (finding,) = result.violations
    assert finding["severity"] == "high"
    assert "Forbidden" in finding["message"]
    assert [cluster["status"] for cluster in result.check["clusters"] if cluster["hex"] == "#FF00FF"] == \
        ["forbidden"]


def test_the_excluded_logo_keeps_its_own_colours() -> None:
    image = flat_design(CANON["palette_hex"])
    ImageDraw.Draw(image).rectangle((300, 50, 449, 149), fill="#00C853")
    assert check_palette(np.asarray(image), CANON, POLICY, exclude=[(300, 50, 150, 100)]).violations == []


def test_photographic_areas_are_judged_against_the_looser_threshold() -> None:
    rng = np.random.default_rng(7)
    rgb = np.asarray(flat_design(CANON["palette_hex"])).copy()
    # A textured area around #3A5FA0, ~6 CIEDE2000 from the canon blue: too far for a fill, fine for a photo.
    base = np.array(parse_hex("#3A5FA0"), dtype=np.int16)
    patch = np.clip(base + rng.integers(-6, 7, size=(120, 200, 3)), 0, 255).astype(np.uint8)
    rgb[200:320, 50:250] = np.asarray(Image.fromarray(patch).filter(ImageFilter.GaussianBlur(0.6)))
    assert check_palette(rgb, CANON, POLICY, detect_photos=False).violations  # judged as a flat fill
    assert check_palette(rgb, CANON, POLICY).violations == []  # detected as texture
    assert check_palette(rgb, CANON, POLICY, detect_photos=False, photo_boxes=[(50, 200, 200, 120)]).violations == []


hex_colours = st.integers(0, 0xFFFFFF).map(lambda value: f"#{value:06X}")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(palette=st.lists(hex_colours, min_size=2, max_size=5, unique=True), patch=hex_colours,
       x=st.integers(0, 400), y=st.integers(0, 250), size=st.tuples(st.integers(110, 200), st.integers(70, 150)),
       image_format=st.sampled_from(["PNG", "JPEG", "WEBP"]))
def test_random_palettes_pass_and_an_off_palette_patch_is_found(palette: list[str], patch: str, x: int, y: int,
                                                                 size: tuple[int, int], image_format: str) -> None:
    labs = np.stack([hex_to_lab(colour) for colour in palette])
    # Brand palettes are colours one can tell apart; two canon colours closer than codec noise cannot be.
    assume(float(ciede2000(labs[:, None, :], labs[None, :, :])[np.triu_indices(len(palette), 1)].min()) >= 10)
    canon = {"palette_hex": palette}
    image = flat_design(palette)
    assert check_palette(encoded(image, image_format), canon, POLICY).violations == []

    # Lossy codecs move dark and saturated fills by a few CIEDE2000: there the patch must be clearly off-palette.
    margin = 1 if image_format == "PNG" else 5
    if float(ciede2000(hex_to_lab(patch), labs).min()) <= POLICY.flat_delta_e + margin:
        return  # the patch colour is (nearly) a canon colour: nothing to find
    width, height = min(size[0], 600 - x), min(size[1], 400 - y)
    if width * height < 0.05 * 600 * 400:
        return
    ImageDraw.Draw(image).rectangle((x, y, x + width - 1, y + height - 1), fill=patch)
    result = check_palette(encoded(image, image_format), canon, POLICY)
    boxes = [finding["box"] for finding in result.violations]
    assert any(bx <= x and by <= y and bx + bw >= x + width and by + bh >= y + height for bx, by, bw, bh in boxes)


@pytest.mark.parametrize("side", [20, 34, 60])
def test_a_small_forbidden_fill_is_always_found(side: int) -> None:
    image = Image.new("RGB", (1080, 1080), "#FFFFFF")
    ImageDraw.Draw(image).rectangle((500, 500, 500 + side - 1, 500 + side - 1), fill="#E10600")
    canon = {"palette_hex": ["#FFFFFF", "#0B3D91"], "forbidden_hex": ["#E10600"]}
    violations = check_palette(np.asarray(image), canon, POLICY).violations
    assert [violation["severity"] for violation in violations] == ["high"]
    x, y, w, h = violations[0]["box"]
    assert max(x, y) <= 500
    assert min(x + w, y + h) >= 500 + side


@pytest.mark.parametrize(("pattern", "colour", "expected"), [
    ("columns", (225, 6, 0), "a forbidden colour"),  # every second column
    ("checkerboard", (0, 200, 80), "off palette"),
    ("rows", (0, 200, 80), "off palette"),
])
def test_a_fine_pattern_of_a_wrong_colour_is_found(pattern: str, colour: tuple[int, int, int], expected: str) -> None:
    """1-px lines and checkerboards have no fill pixels at all: they are not anti-aliasing to be ignored."""
    rgb = np.full((540, 540, 3), 255, dtype=np.uint8)
    rows, columns = np.indices((540, 540))
    where = {"columns": columns % 2 == 0, "rows": rows % 2 == 0, "checkerboard": (rows + columns) % 2 == 0}[pattern]
    rgb[where] = colour
    canon = {"palette_hex": ["#FFFFFF", "#0B3D91"], "forbidden_hex": ["#E10600"]}
    violations = check_palette(rgb, canon, POLICY).violations
    assert [violation["severity"] for violation in violations] == ["high"]
    assert expected in violations[0]["message"]
    assert violations[0]["box"][2] >= 538


def test_a_fine_pattern_in_canon_colours_passes() -> None:
    rgb = np.full((540, 540, 3), 255, dtype=np.uint8)
    rgb[:, ::2] = parse_hex("#0B3D91")
    assert check_palette(rgb, {"palette_hex": ["#FFFFFF", "#0B3D91"]}, POLICY).violations == []


@pytest.mark.parametrize("rule", ["never_text", "no_text_on", "cta_only", "proportion", "never_background"])
def test_a_broken_usage_rule_is_a_palette_finding_naming_it(rule: str) -> None:
    from sgd.critique.measure import measure_design

    accent = "#FFB81C"
    image = Image.new("RGB", (800, 600), "#FFFFFF" if rule != "never_background" else accent)
    draw = ImageDraw.Draw(image)
    ink = accent if rule == "never_text" else "#1A1A1A"
    if rule in ("no_text_on", "cta_only", "proportion"):
        draw.rectangle((60, 300, 700, 560), fill=accent)
    draw.text((80, 380 if rule == "no_text_on" else 80), "Spring open house", fill=ink, font_size=56)
    rules = [{"kind": rule, "hex": accent} | ({"min_pct": 0, "max_pct": 10} if rule == "proportion" else {})]
    canon = {"palette_hex": ["#0B3D91", accent, "#FFFFFF", "#1A1A1A"], "usage_rules": rules}
    measured = measure_design(image, canon, POLICY)  # type: ignore[arg-type]
    named = [v for v in measured.violations if v["kind"] == "palette" and rule in v["message"]]
    assert named
    kept = dict(canon, usage_rules=[])
    assert not [v for v in measure_design(image, kept, POLICY).violations  # type: ignore[arg-type]
                if v["kind"] == "palette"]


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP"])
@pytest.mark.parametrize("share", [0.002, 0.0035])
def test_a_small_off_palette_fill_is_found(image_format: str, share: float) -> None:
    """A fill of 0.2-0.4 % of the canvas, below min_cluster_share, is still a fill: solid pixels well inside it
    (no anti-aliased edge or thin stroke has them), judged by the flat threshold."""
    image = flat_design(CANON["palette_hex"])
    side = round((share * image.width * image.height) ** 0.5)
    x, y = 380, 120
    ImageDraw.Draw(image).rectangle((x, y, x + side - 1, y + side - 1), fill="#2E8B57")  # ~40 from every canon colour
    result = check_palette(encoded(image, image_format), CANON, POLICY)
    assert [finding for finding in result.violations
            if finding["box"][0] <= x + side and x <= finding["box"][0] + finding["box"][2]
            and finding["box"][1] <= y + side and y <= finding["box"][1] + finding["box"][3]]
    assert share < POLICY.min_cluster_share
