"""Text contrast: WCAG ratios measured on the pixels, against the background actually under the text, from layout
text boxes and from detection; patterns are not text."""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from sgd.critique.palette import analyse_colours
from sgd.critique.policy import load_critique_policy
from sgd.critique.text import check_contrast
from sgd.design.fonts import bundled_family

POLICY = load_critique_policy()
BRANDS = Path(__file__).resolve().parents[2] / "examples" / "brands"


def font(size: int) -> ImageFont.FreeTypeFont:
    family = bundled_family("Liberation Sans")
    assert family is not None
    regular = family.file("regular")
    assert regular is not None
    assert regular.path is not None
    return ImageFont.truetype(str(regular.path), size)


def text_design(text_colour: str, background: str, size: int = 40, width: int = 800, height: int = 300,
                text: str = "Spring open house") -> tuple[Image.Image, list[int]]:
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    draw.text((40, 100), text, fill=text_colour, font=font(size))
    left, top, right, bottom = draw.textbbox((40, 100), text, font=font(size))
    return image, [left, top, right - left, bottom - top]


def contrast_of(image: Image.Image, canon: dict, text_boxes: list | None = None) -> dict:
    analysis = analyse_colours(np.asarray(image), canon, POLICY, detect_photos=text_boxes is None)
    return check_contrast(analysis, POLICY, text_boxes).check


@pytest.mark.parametrize(("colour", "expected"), [("#777777", 4.48), ("#767676", 4.54), ("#000000", 21.0)])
@pytest.mark.parametrize("source", ["layout", "detected"])
def test_wcag_known_pairs_measured_on_the_pixels(colour: str, expected: float, source: str) -> None:
    image, box = text_design(colour, "#FFFFFF", size=20)
    canon = {"palette_hex": [colour, "#FFFFFF"]}
    layout = [{"box": box, "text": "Spring open house", "size_px": 20, "color": colour}] if source == "layout" else None
    check = contrast_of(image, canon, layout)
    assert check["source"] == source
    (measured,) = check["text_boxes"]
    assert measured["ratio"] == pytest.approx(expected, abs=0.011)
    assert measured["color"] == colour
    assert measured["background"] == "#FFFFFF"
    assert measured["required"] == 4.5  # 20 px is not large text
    assert measured["ok"] is (expected >= 4.5)


def test_the_background_is_measured_not_taken_from_the_layout() -> None:
    image, box = text_design("#FFFFFF", "#FFB81C")
    layout = [{"box": box, "text": "Spring open house", "size_px": 40, "color": "#FFFFFF", "background": "#1A1A1A",
               "contrast_ratio": 17.4}]
    analysis = analyse_colours(np.asarray(image), {"palette_hex": ["#FFFFFF", "#FFB81C"]}, POLICY)
    result = check_contrast(analysis, POLICY, layout)
    (measured,) = result.check["text_boxes"]
    assert measured["background"] == "#FFB81C"
    assert measured["ratio"] == pytest.approx(1.73, abs=0.01)
    assert measured["large"] is True
    assert measured["required"] == 3.0
    (finding,) = result.violations
    assert finding["kind"] == "contrast"
    assert finding["severity"] == "high"  # below even the large-text minimum
    assert finding["box"] == box


def test_on_a_split_background_the_worst_part_counts() -> None:
    image, box = text_design("#1A1A1A", "#FFFFFF")
    pixels = np.asarray(image).copy()
    under = pixels[:, 300:]
    under[(under == 255).all(axis=-1)] = (0x0B, 0x3D, 0x91)  # the right part of the line sits on dark blue
    layout = [{"box": box, "text": "Spring open house", "size_px": 40, "color": "#1A1A1A"}]
    check = contrast_of(Image.fromarray(pixels), {"palette_hex": ["#1A1A1A", "#FFFFFF", "#0B3D91"]}, layout)
    (measured,) = check["text_boxes"]
    assert measured["ratio"] < 2.0  # #1A1A1A on #0B3D91 is 1.73
    assert measured["ok"] is False


def test_repeated_shapes_are_not_text() -> None:
    image = Image.new("RGB", (600, 400), "#F4EDE4")
    draw = ImageDraw.Draw(image)
    for row in range(5):
        for col in range(8):
            draw.ellipse((40 + 60 * col, 40 + 60 * row, 70 + 60 * col, 70 + 60 * row), fill="#C8A27A")
    for col in range(8):
        draw.rounded_rectangle((40 + 60 * col, 340, 80 + 60 * col, 370), radius=15, fill="#C8A27A")
    check = contrast_of(image, {"palette_hex": ["#F4EDE4", "#C8A27A"]})
    assert check["text_boxes"] == []


def test_a_tile_graphics_curved_edges_are_not_a_line_of_text() -> None:
    """An engine render (saved as it was) whose tile graphic of dark quarter circles, half circles and triangles on
    navy: small pieces along its anti-aliased edges, linked pair by pair, climbed into a 400 px tall "line" of 22 px
    glyphs, reported as unreadable text at 1.73:1. The headline's three lines are still found and pass."""
    from sgd.critique.logo import prepare_logo
    from sgd.critique.measure import decode_design, measure_design

    kit = BRANDS / "helio-energy"
    canon = json.loads((kit / "truth.json").read_text()) | {"logo_asset_id": "logo"}
    image = decode_design((Path(__file__).parent / "data" / "tile_graphic_render.png").read_bytes())
    measured = measure_design(image, canon, POLICY, logo=prepare_logo((kit / "logo.png").read_bytes()))  # type: ignore[arg-type]
    check = measured.checks["contrast"]
    boxes = [entry["box"] for entry in check["text_boxes"]]
    assert len(boxes) == 3, check["text_boxes"]
    assert all(entry["ok"] for entry in check["text_boxes"])
    assert all(box[1] + box[3] < 600 for box in boxes)  # the headline sits above the graphic (y 616 on)


def test_detected_font_size_decides_large_text() -> None:
    small, _ = text_design("#949494", "#FFFFFF", size=16)  # 3.03:1, fine only for large text
    large, _ = text_design("#949494", "#FFFFFF", size=48)
    canon = {"palette_hex": ["#949494", "#FFFFFF"]}
    (small_box,) = contrast_of(small, canon)["text_boxes"]
    (large_box,) = contrast_of(large, canon)["text_boxes"]
    assert small_box["large"] is False
    assert small_box["ok"] is False
    assert large_box["large"] is True
    assert large_box["ok"] is True


@pytest.mark.parametrize("kit", ["northwind-coffee", "helio-energy"])
def test_detected_contrast_matches_the_labelled_designs(kit: str) -> None:
    canon = json.loads((BRANDS / kit / "truth.json").read_text())
    labels = json.loads((BRANDS / kit / "critique" / "labels.json").read_text())
    for name, label in labels.items():
        image = Image.open(BRANDS / kit / "critique" / name).convert("RGB")
        x0, y0, x1, y1 = label["logo_box"]
        analysis = analyse_colours(np.asarray(image), canon, POLICY, exclude=[(x0, y0, x1 - x0, y1 - y0)])
        result = check_contrast(analysis, POLICY)
        (truth,) = label["text_boxes"]
        bx0, by0, bx1, by1 = truth["box"]
        inside = [box for box in result.check["text_boxes"]
                  if bx0 - 4 <= box["box"][0] and box["box"][0] + box["box"][2] <= bx1 + 4
                  and by0 - 4 <= box["box"][1] and box["box"][1] + box["box"][3] <= by1 + 4]
        assert inside, name
        assert all(abs(box["ratio"] - truth["contrast"]) <= 0.1 for box in inside), name
        assert bool(result.violations) is ("contrast" in label["violations"]), name


@pytest.mark.parametrize("size", [18, 31, 36])
def test_lossy_halos_around_light_text_are_not_its_colour(size: int) -> None:
    # WebP rings dark around thin light strokes on a dark fill; the rings form glyph-like outlines of a dark colour
    # (here pulled to the canon's #1A1A1A). The text's colour is judged from the glyphs' cores, not those outlines.
    image = Image.new("RGB", (600, 600), "#0B3D91")
    draw = ImageDraw.Draw(image)
    draw.rectangle((504, 0, 600, 600), fill="#1A1A1A")
    draw.text((36, 240), "Fresh roast", fill="#FFB81C", font=font(68))
    draw.text((36, 480), "Visit us on Main Street", fill="#FFB81C", font=font(size))
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=80, method=2)
    decoded = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    canon = {"palette_hex": ["#0B3D91", "#FFB81C", "#FFFFFF", "#1A1A1A"]}
    analysis = analyse_colours(np.asarray(decoded), canon, POLICY, lossy=True)
    result = check_contrast(analysis, POLICY)
    assert result.violations == []
    subline = [box for box in result.check["text_boxes"] if box["box"][1] >= 470]
    assert subline, "the subline is measured"
    assert all(box["color"] == "#FFB81C" and box["background"] == "#0B3D91" for box in subline)
    assert all(box["ratio"] == pytest.approx(5.79, abs=0.05) for box in subline)


def _iou(first: list[int], second: list[int]) -> float:
    ax, ay, aw, ah = first
    bx, by, bw, bh = second
    inter = max(0, min(ax + aw, bx + bw) - max(ax, bx)) * max(0, min(ay + ah, by + bh) - max(ay, by))
    return inter / (aw * ah + bw * bh - inter)


@pytest.mark.parametrize("kit", sorted(path.name for path in BRANDS.iterdir() if (path / "critique").is_dir()))
def test_each_labelled_line_is_detected_whole(kit: str) -> None:
    # The real path for an external image: the logo found by matching, detection on a reduced copy when large.
    from sgd.critique.logo import prepare_logo
    from sgd.critique.measure import decode_design, measure_design

    canon = json.loads((BRANDS / kit / "truth.json").read_text())
    labels = json.loads((BRANDS / kit / "critique" / "labels.json").read_text())
    logo = prepare_logo((BRANDS / kit / "logo.png").read_bytes())
    for name, label in labels.items():
        design = decode_design((BRANDS / kit / "critique" / name).read_bytes())
        detected = measure_design(design, canon, POLICY, logo=logo).checks["contrast"]["text_boxes"]
        for truth in label["text_boxes"]:
            x0, y0, x1, y1 = truth["box"]
            best = max(detected, key=lambda box: _iou([x0, y0, x1 - x0, y1 - y0], box["box"]), default=None)
            assert best is not None, (name, truth["text"])
            assert _iou([x0, y0, x1 - x0, y1 - y0], best["box"]) >= 0.8, (name, truth["text"], best["box"])
            assert abs(best["ratio"] - truth["contrast"]) <= 0.1, (name, truth["text"])


SYNTHETIC_WORDS = ["spring", "open", "house", "fresh", "roast", "launch", "season", "today", "bold", "new", "coffee",
                   "energy", "solar", "bright", "morning", "quality", "little", "jumpy", "hill", "village", "kilo"]


def _synthetic_line(seed: int) -> tuple[Image.Image, dict, list[int], float, int]:
    """A random line (2-4 words, random capitalisation, 48-90 px, any bundled font) in two random colours of an
    example kit's palette, on a canvas of random size (some large enough to be detected on a reduced copy)."""
    import random

    from sgd.design.color import contrast_ratio
    from sgd.design.fonts import fonts_dir

    folder = fonts_dir()
    assert folder is not None
    fonts = sorted(folder.glob("*.ttf"))
    palettes = [json.loads(path.read_text())["palette_hex"] for path in sorted(BRANDS.glob("*/truth.json"))]
    chance = random.Random(seed)
    while True:
        palette = chance.choice(palettes)
        background, ink = chance.sample(palette, 2)
        if contrast_ratio(background, ink) >= 1.5:  # both colours must be told apart
            break
    text = " ".join(word.capitalize() if chance.random() < 0.5 else word
                    for word in chance.sample(SYNTHETIC_WORDS, chance.randint(2, 4)))
    size = chance.randint(48, 90)
    face = ImageFont.truetype(str(chance.choice(fonts)), size)
    scale = chance.choice([1, 1, 2])
    length = int(face.getlength(text)) + 1
    width, height = max(length + 2 * size + chance.randint(0, 200), 300), max(3 * size, 200)
    if scale == 2:
        width, height = max(width, 1200), max(height, 628)
    image = Image.new("RGB", (width, height), background)
    mask = Image.new("L", (width, height), 0)
    origin = (chance.randint(size // 2 + 4, width - length - size // 2 - 4), chance.randint(size // 2 + 4,
                                                                                        height - 2 * size))
    ImageDraw.Draw(image).text(origin, text, fill=ink, font=face)
    ImageDraw.Draw(mask).text(origin, text, fill=255, font=face)
    x0, y0, x1, y1 = mask.point(lambda value: 255 if value >= 128 else 0).getbbox()  # the glyphs' ink
    return image, {"palette_hex": palette}, [x0, y0, x1 - x0, y1 - y0], contrast_ratio(ink, background), scale


@pytest.mark.parametrize("seed", range(24))
def test_a_detected_line_covers_all_its_words(seed: int) -> None:
    image, canon, ink, ratio, scale = _synthetic_line(seed)
    analysis = analyse_colours(np.asarray(image), canon, POLICY)
    boxes = check_contrast(analysis, POLICY, scale=scale).check["text_boxes"]
    overlapping = [box for box in boxes if _iou(ink, box["box"]) > 0]
    assert overlapping, "the line is found"
    # One region for the whole line (ascenders, descenders, capitals and every word), not fragments of it.
    assert all(_iou(ink, box["box"]) >= 0.8 for box in overlapping), (ink, overlapping)
    assert all(abs(box["ratio"] - ratio) <= 0.1 for box in overlapping)


def test_words_are_joined_across_a_wide_word_space_but_not_across_columns() -> None:
    # Monospace word spaces are a full character wide (~0.6 em); two texts a gutter of ~2.5 em apart stay two lines.
    family = bundled_family("Liberation Mono")
    assert family is not None
    regular = family.file("regular")
    assert regular is not None
    mono = ImageFont.truetype(str(regular.path), 44)
    image = Image.new("RGB", (1000, 200), "#F4EDE4")
    draw = ImageDraw.Draw(image)
    draw.text((30, 70), "Open house", fill="#3B2314", font=mono)
    draw.text((400, 70), "Fresh roast", fill="#3B2314", font=mono)
    left = draw.textbbox((30, 70), "Open house", font=mono)
    right = draw.textbbox((400, 70), "Fresh roast", font=mono)
    boxes = contrast_of(image, {"palette_hex": ["#F4EDE4", "#3B2314"]})["text_boxes"]
    assert len(boxes) == 2
    for box, drawn in zip(sorted(boxes, key=lambda item: item["box"][0]), (left, right), strict=True):
        x0, y0, x1, y1 = drawn
        assert _iou([x0, y0, x1 - x0, y1 - y0], box["box"]) >= 0.8


def bold_font(size: int) -> ImageFont.FreeTypeFont:
    family = bundled_family("Liberation Sans")
    assert family is not None
    bold = family.file("bold")
    assert bold is not None
    assert bold.path is not None
    return ImageFont.truetype(str(bold.path), size)


@pytest.mark.parametrize(("text_colour", "background"), [("#F7F3FA", "#FFFFFF"), ("#2E2B33", "#26242A"),
                                                         ("#E9E4DD", "#F4EDE4")])
def test_near_invisible_text_is_found_and_called_unreadable(text_colour: str, background: str) -> None:
    image, box = text_design(text_colour, background, size=72, text="Spring open house")
    canon = {"palette_hex": [text_colour, background]}
    analysis = analyse_colours(np.asarray(image), canon, POLICY)
    result = check_contrast(analysis, POLICY, None)
    (finding,) = [v for v in result.violations if v["kind"] == "contrast"]
    assert finding["severity"] == "high"
    assert finding["message"].startswith("Unreadable text")
    assert _iou(finding["box"], box) > 0, "the finding covers the text"
    (measured,) = result.check["text_boxes"]
    assert measured["ratio"] < 1.5


def test_bold_text_from_14pt_is_large() -> None:
    """WCAG: 14 pt (18.67 px) bold is large text; the weight is measured from the strokes."""
    colour = "#8A8A8A"  # 3.45:1 on white: enough for large text only
    canon = {"palette_hex": [colour, "#FFFFFF"]}
    checks = {}
    for weight, face in (("bold", bold_font(21)), ("regular", font(21))):
        image = Image.new("RGB", (700, 200), "#FFFFFF")
        ImageDraw.Draw(image).text((40, 80), "Register for the webinar", fill=colour, font=face)
        (checks[weight],) = contrast_of(image, canon)["text_boxes"]
    assert checks["bold"]["bold"] is True
    assert checks["bold"]["large"] is True
    assert checks["bold"]["ok"] is True
    assert checks["regular"]["large"] is False
    assert checks["regular"]["ok"] is False


@pytest.mark.parametrize(("text", "size", "bold", "ink", "panel"), [
    ("Now", 34, True, "#27A383", "#2AAA8A"),  # ~1.1:1 on a small teal panel
    ("More register", 16, True, "#8A968E", "#FBF6F4"),  # ~2.8:1, small bold text on a barely different panel
])
def test_faint_text_on_a_small_panel_is_found_on_a_large_canvas(text: str, size: int, bold: bool, ink: str,
                                                                 panel: str) -> None:
    """On a canvas large enough to be searched at half size, small or faint text on a panel only a little larger
    than itself is still found: its background is the panel (not a blend of the panel and the canvas around it), and
    glyphs the half-size copy blurs into blobs are looked at again at full size."""
    from sgd.critique.measure import measure_design

    image = Image.new("RGB", (1080, 1080), "#FFFFFF")
    draw = ImageDraw.Draw(image)
    face = bold_font(size) if bold else font(size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=face)
    pad = max(12, round(0.6 * size))
    x, y = 600, 700
    draw.rectangle((x, y, x + right - left + 2 * pad, y + bottom - top + 2 * pad), fill=panel)
    draw.text((x + pad - left, y + pad - top), text, fill=ink, font=face)
    text_box = [x + pad, y + pad, right - left, bottom - top]
    measurement = measure_design(image, {"palette_hex": ["#FFFFFF", panel, ink]}, POLICY)
    findings = [v for v in measurement.violations if v["kind"] == "contrast"]
    assert findings, measurement.checks["contrast"]
    assert all(_iou(finding["box"], text_box) > 0 for finding in findings)


def test_codec_artefacts_on_a_striped_graphic_are_not_text() -> None:
    """A WebP of an engine render with diagonal stripes: the codec's chroma blocks along the stripes stood out from
    their local background like faint strokes (three "unreadable text" lines at 1.03-1.09:1; the PNG has none). In a
    JPEG or WebP strokes are looked for by luma only (chroma is subsampled and rings most); near-invisible text on a
    flat fill in a JPEG is still found."""
    from sgd.critique.logo import prepare_logo
    from sgd.critique.measure import decode_design, measure_design
    from sgd.design.engine import DesignRequest, render_design
    from sgd.design.planner import rule_based_plan

    kit = BRANDS / "helio-energy"
    canon = json.loads((kit / "truth.json").read_text()) | {"logo_asset_id": "logo"}
    instruction = 'Poster with the headline "Main quality now", CTA: Homes register'
    request = {"prompts": {"task": "create", "instruction": instruction, "references": []},
               "outputs": {"count": 1, "format": "png", "dimensions": "800x1000"}, "constraints": {}}
    design = render_design(DesignRequest(
        plan=rule_based_plan(instruction, canon, request), width=800, height=1000, format="png",
        palette=tuple(canon["palette_hex"]), fonts=tuple(canon.get("fonts") or ()),
        logo=(kit / "logo.png").read_bytes(), logo_safe_zone_pct=float(canon["logo_safe_zone_pct"]), seed=566))
    buffer = io.BytesIO()
    Image.open(io.BytesIO(design.data)).convert("RGB").save(buffer, format="WEBP", quality=85)
    logo = prepare_logo((kit / "logo.png").read_bytes())
    measured = measure_design(decode_design(buffer.getvalue()), canon, POLICY, logo=logo)  # type: ignore[arg-type]
    assert [v for v in measured.violations if v["kind"] == "contrast"] == []

    faint, _ = text_design("#F3F7FA", "#FFFFFF", size=48, text="Nearly invisible")  # about 1.07:1
    buffer = io.BytesIO()
    faint.save(buffer, format="JPEG", quality=90)
    found = measure_design(decode_design(buffer.getvalue()), {"palette_hex": ["#FFFFFF", "#F3F7FA"]}, POLICY)
    (finding,) = [v for v in found.violations if v["kind"] == "contrast"]
    assert finding["message"].startswith("Unreadable text")


def face_of(family_name: str, weight: str, size: int) -> ImageFont.FreeTypeFont:
    family = bundled_family(family_name)
    assert family is not None
    file = family.file(weight)
    assert file is not None
    assert file.path is not None
    return ImageFont.truetype(str(file.path), size)


def _gradient(width: int, height: int, first: tuple[int, int, int], second: tuple[int, int, int],
              angle: float | None = None) -> Image.Image:
    """A linear gradient from `first` to `second`: diagonal (top left to bottom right), or along `angle` (radians)."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    if angle is None:
        t = (xs / max(1, width - 1) + ys / max(1, height - 1)) / 2
    else:
        t = xs * np.cos(angle) + ys * np.sin(angle)
        t = (t - t.min()) / max(1e-9, float(np.ptp(t)))
    pixels = np.array(first)[None, None] * (1 - t[..., None]) + np.array(second)[None, None] * t[..., None]
    return Image.fromarray(np.rint(pixels).astype(np.uint8))


@pytest.mark.parametrize(("text", "family", "size", "bold", "ink", "first", "second", "angle"), [
    ("Launch roast", "Liberation Sans", 48, True, (0xE4, 0xDF, 0xDE), (0xF2, 0xEC, 0xEB), (0xD9, 0xD3, 0xD2), None),
    ("Open event", "Liberation Sans", 30, False, (0xDB, 0xD3, 0xDD), (0xEC, 0xE6, 0xF0), (0xD0, 0xC9, 0xD3), None),
    # large heavy letters (their parts fill up to 0.7 of their boxes), whose counters stand out the other way
    ("Main today", "DejaVu Sans", 88, True, (0xCD, 0xD5, 0xD8), (0xE2, 0xE9, 0xEA), (0xC4, 0xCB, 0xCE), 1.2),
])
def test_faint_text_on_a_gradient_is_found_and_judged_where_it_is_worst(
        text: str, family: str, size: int, bold: bool, ink: tuple[int, int, int], first: tuple[int, int, int],
        second: tuple[int, int, int], angle: float | None) -> None:
    """Text a little darker than the middle of a gradient panel: the panel's far corners differ from each other by
    more than the text differs from either, so against one background colour for the whole line the text was
    "part of the texture" (or its own colour was all around it). Against the background next to each glyph it
    stands out; its ratio is the worst part of that background (near-invisible: unreadable)."""
    from sgd.critique.measure import measure_design

    image = Image.new("RGB", (1080, 1080), "#EAF1F2")
    face = face_of(family, "bold" if bold else "regular", size)
    left, top, right, bottom = ImageDraw.Draw(image).textbbox((0, 0), text, font=face)
    pad = max(12, round(0.6 * size))
    panel = _gradient(right - left + 2 * pad, bottom - top + 2 * pad, first, second, angle)
    ImageDraw.Draw(panel).text((pad - left, pad - top), text, fill=ink, font=face)
    image.paste(panel, (100, 80))
    text_box = [100 + pad, 80 + pad, right - left, bottom - top]
    measurement = measure_design(image, {"palette_hex": ["#EAF1F2"]}, POLICY)
    findings = [v for v in measurement.violations if v["kind"] == "contrast"]
    assert findings, measurement.checks["contrast"]
    assert all(_iou(finding["box"], text_box) > 0 for finding in findings)
    assert any(finding["message"].startswith("Unreadable text") for finding in findings)


@pytest.mark.parametrize(("text", "family", "size", "bold", "ink", "panel", "panel_end"), [
    ("Main for visit", "DejaVu Sans", 13, True, "#61667A", "#14242C", "#14242C"),  # ~2.7:1, on a small dark panel
    ("Spring", "DejaVu Sans", 16, True, "#4A5990", "#7A72E8", "#7A72E8"),  # ~1.7:1
])
def test_small_text_on_a_panel_smaller_than_the_search_window_is_found(text: str, family: str, size: int,
                                                                        bold: bool, ink: str, panel: str,
                                                                        panel_end: str) -> None:
    """A panel (a button) smaller than the half-size copy's background window stands out from the page along its
    rim, and small text on it merges with that rim there; the panel is looked at again at full size, on its own."""
    from sgd.critique.measure import measure_design

    image = Image.new("RGB", (1080, 1080), "#F4EEF2")
    draw = ImageDraw.Draw(image)
    face = face_of(family, "bold" if bold else "regular", size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=face)
    x, y, pad = 640, 460, 12
    rgb = [tuple(int(value[i:i + 2], 16) for i in (1, 3, 5)) for value in (panel, panel_end)]
    image.paste(_gradient(right - left + 2 * pad, bottom - top + 2 * pad, rgb[0], rgb[1]), (x, y))  # type: ignore
    draw.text((x + pad - left, y + pad - top), text, fill=ink, font=face)
    text_box = [x + pad, y + pad, right - left, bottom - top]
    measurement = measure_design(image, {"palette_hex": ["#F4EEF2", panel, ink]}, POLICY)
    findings = [v for v in measurement.violations if v["kind"] == "contrast"]
    assert findings, measurement.checks["contrast"]
    assert all(_iou(finding["box"], text_box) > 0 for finding in findings)


def _ratio(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    def luminance(rgb: np.ndarray) -> np.ndarray:
        values = np.asarray(rgb, dtype=np.float64) / 255.0
        linear = np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)
        return linear @ np.array([0.2126, 0.7152, 0.0722])
    a, b = luminance(first), luminance(second)
    return (np.maximum(a, b) + 0.05) / (np.minimum(a, b) + 0.05)


def test_a_colour_found_line_on_a_gradient_is_judged_where_its_background_is_worst() -> None:
    """Large text whose colour the clusters find, on a gradient panel: the clusters' centres stand for ranges of
    colours, and against the lightest of them the line passed (3.9:1). Judged by its ink against each pixel next to
    its glyphs it is the 10th percentile of those ratios, as WCAG judges a mixed background: below 3:1."""
    from sgd.critique.measure import measure_design

    text, ink, size = "Coffee today", (0x70, 0x84, 0x73), 40
    face = font(size)
    image = Image.new("RGB", (1080, 1080), "#FDFDF6")
    left, top, right, bottom = ImageDraw.Draw(image).textbbox((0, 0), text, font=face)
    pad = round(0.6 * size)
    panel = _gradient(right - left + 2 * pad, bottom - top + 2 * pad, (0xFD, 0xFD, 0xF6), (0xC4, 0xC4, 0xBC), 0.4)
    mask = Image.new("L", panel.size, 0)
    ImageDraw.Draw(mask).text((pad - left, pad - top), text, fill=255, font=face)
    panel.paste(Image.new("RGB", panel.size, ink), (0, 0), mask)
    image.paste(panel, (700, 500))
    glyphs = np.asarray(mask) > 127
    reach = round(0.25 * size)
    near = np.asarray(mask.filter(ImageFilter.MaxFilter(2 * reach + 1))) > 0
    ring = near & ~(np.asarray(mask.filter(ImageFilter.MaxFilter(3))) > 0)
    ratios = _ratio(np.asarray(panel), np.array(ink))
    measurement = measure_design(image, {"palette_hex": ["#FDFDF6"]}, POLICY)
    lines = [line for line in measurement.checks["contrast"]["text_boxes"] if line["box"][0] >= 700 - 4]
    assert lines, measurement.checks["contrast"]
    for line in lines:  # each line (a word) against the ring around its own glyphs
        x, y, w, h = line["box"]
        own = np.zeros(ring.shape, dtype=bool)
        own[max(0, y - 500 - reach):y - 500 + h + reach, max(0, x - 700 - reach):x - 700 + w + reach] = True
        worst = float(np.percentile(ratios[ring & own], 10))
        assert abs(line["ratio"] - worst) <= 0.2, (worst, line)
        assert worst < 3.0
        assert line["ok"] is False
    assert glyphs.any()


def test_small_bold_text_on_a_small_panel_is_sized_from_its_letters() -> None:
    """16 px bold "Today" at 3.9:1 on a small panel: small text (4.5:1 needed). The half-size copy joins its letters
    into pieces from an ascender's top to a descender's foot; found again at full size it is sized by its tallest
    letter, and three of its five letters rising above the x-height make it no word of x-height letters."""
    from sgd.critique.measure import measure_design

    image = Image.new("RGB", (1080, 1080), "#F4F0E8")
    draw = ImageDraw.Draw(image)
    face = face_of("DejaVu Sans", "bold", 16)
    left, top, right, bottom = draw.textbbox((0, 0), "Today", font=face)
    x, y, pad = 700, 500, 12
    draw.rectangle((x, y, x + right - left + 2 * pad - 1, y + bottom - top + 2 * pad - 1), fill="#72B42F")
    draw.text((x + pad - left, y + pad - top), "Today", fill="#344A1C", font=face)
    measurement = measure_design(image, {"palette_hex": ["#F4F0E8", "#72B42F", "#344A1C"]}, POLICY)
    (line,) = measurement.checks["contrast"]["text_boxes"]
    assert line["size_px"] < 18.67, line
    assert line["required"] == 4.5
    assert [v for v in measurement.violations if v["kind"] == "contrast"]


def _photo(rng: np.random.Generator, width: int, height: int, low: float, high: float) -> np.ndarray:
    """A photograph-like texture: smooth colour fields of a few scales plus per-pixel grain (uint8 RGB)."""
    total = np.zeros((height, width, 3))
    for cells, weight in ((3, 1.0), (11, 0.5), (31, 0.25)):
        field = rng.uniform(0, 1, (cells, max(2, round(cells * width / height)), 3))
        layer = Image.fromarray((field * 255).astype(np.uint8)).resize((width, height), Image.Resampling.BICUBIC)
        total += weight * np.asarray(layer, dtype=np.float64) / 255
    total = low + (high - low) * (total - total.min()) / max(1e-9, float(np.ptp(total)))
    total = total * rng.uniform(0.7, 1.0, 3) + rng.normal(0, 0.015, total.shape)
    return np.clip(total * 255, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("text", "family", "size", "bold", "light", "target", "seed"), [
    ("Season open", "DejaVu Sans", 96, True, False, 1.15, 1),  # large bold, nearly invisible on a dark photo
    ("Fresh roast today", "Liberation Sans", 36, False, True, 1.3, 2),  # regular, on a light photo
    ("Register", "DejaVu Sans", 48, True, False, 1.5, 3),
])
def test_faint_flat_text_on_a_photograph_is_found_by_its_ink(text: str, family: str, size: int, bold: bool,
                                                              light: bool, target: float, seed: int) -> None:
    """Text in one flat colour on a photograph, at 1.15-1.5:1: the stroke pass leaves photographs out (their texture
    stands out everywhere) and the colour clusters merge the ink into the photograph's colours, so main found no
    text. The ink is flat where the photograph's grain is not: found, and judged against the ring around its
    glyphs (the 10th percentile of the per-pixel ratios, computed here), as unreadable or failing."""
    from sgd.critique.measure import measure_design

    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (1080, 1080), "#F2F4F7")
    face = face_of(family, "bold" if bold else "regular", size)
    left, top, right, bottom = ImageDraw.Draw(image).textbbox((0, 0), text, font=face)
    pad = round(0.6 * size)
    width, height = right - left + 2 * pad, bottom - top + 2 * pad
    photo = _photo(rng, width, height, *((0.7, 0.95) if light else (0.05, 0.3)))
    mean = photo.reshape(-1, 3).mean(axis=0)
    toward = np.zeros(3) if light else np.full(3, 255.0)
    share = next(t for t in np.linspace(0, 1, 401) if _ratio(mean + t * (toward - mean), mean) >= target)
    ink = tuple(int(v) for v in np.rint(mean + share * (toward - mean)))
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).text((pad - left, pad - top), text, fill=255, font=face)
    panel = Image.fromarray(photo)
    panel.paste(Image.new("RGB", panel.size, ink), (0, 0), mask)
    image.paste(panel, (120, 400))
    glyphs = np.asarray(mask) > 127
    reach = max(2, round(0.25 * size))
    ring = (np.asarray(mask.filter(ImageFilter.MaxFilter(2 * reach + 1))) > 0) & \
        ~(np.asarray(mask.filter(ImageFilter.MaxFilter(3))) > 0)
    truth = float(np.percentile(_ratio(np.asarray(panel)[ring], np.array(ink)), 10))
    text_box = [120 + pad, 400 + pad, right - left, bottom - top]
    measurement = measure_design(image, {"palette_hex": ["#F2F4F7"]}, POLICY)
    lines = [line for line in measurement.checks["contrast"]["text_boxes"] if _iou(line["box"], text_box) > 0]
    assert lines, measurement.checks["contrast"]
    assert all(line["ok"] is False for line in lines)
    assert any(abs(line["ratio"] - truth) <= 0.1 for line in lines), (truth, lines)
    findings = [v for v in measurement.violations if v["kind"] == "contrast"]
    assert findings
    assert all(_iou(finding["box"], text_box) > 0 for finding in findings), findings
    assert glyphs.any()


@pytest.mark.parametrize(("text", "family", "size", "bold", "ink", "background"), [
    ("On", "DejaVu Sans", 16, True, "#D7D8D6", "#EEF4EC"),  # ~1.3:1
    ("Us", "Liberation Sans", 16, False, "#B1BEB4", "#EDF4F5"),  # ~1.7:1
    ("Our", "DejaVu Serif", 14, False, "#DEE6E3", "#E9F2EF"),  # ~1.1:1, "ur" joined by a serif
])
def test_a_short_small_word_is_found(text: str, family: str, size: int, bold: bool, ink: str,
                                     background: str) -> None:
    """A two-letter word of small text: two glyphs under 16 px were refused as "two specks" (a codec's halo), and
    at full size in a crop the two-big-shapes rule measured them against the crop's side. In a lossless design two
    small glyphs at full resolution may be a word."""
    from sgd.critique.measure import measure_design

    image = Image.new("RGB", (1080, 1080), "#FFFFFF")
    draw = ImageDraw.Draw(image)
    face = face_of(family, "bold" if bold else "regular", size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=face)
    x, y, pad = 600, 300, 14
    draw.rectangle((x, y, x + right - left + 2 * pad - 1, y + bottom - top + 2 * pad - 1), fill=background)
    draw.text((x + pad - left, y + pad - top), text, fill=ink, font=face)
    text_box = [x + pad, y + pad, right - left, bottom - top]
    measurement = measure_design(image, {"palette_hex": ["#FFFFFF", background, ink]}, POLICY)
    findings = [v for v in measurement.violations if v["kind"] == "contrast"]
    assert findings, measurement.checks["contrast"]
    assert all(_iou(finding["box"], text_box) > 0 for finding in findings)
