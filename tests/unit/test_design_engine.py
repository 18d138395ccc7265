import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw
from sgd.design.color import best_text_pair, contrast_ratio
from sgd.design.color_roles import text_threshold
from sgd.design.engine import MIME_TYPES, Design, DesignRequest, render_design
from sgd.design.fonts import resolve_fonts
from sgd.design.geometry import Box, clearance, edge_clearance
from sgd.design.planner import rule_based_plan
from sgd.design.request import BrandLook
from sgd.design.typeset import fit_text

BUNDLE = Path(__file__).resolve().parents[2] / "layers" / "imaging" / "fonts"
PALETTE = ("#0A2540", "#FFFFFF", "#635BFF", "#00D4FF")
CANON: dict[str, Any] = {"palette_hex": list(PALETTE), "fonts": ["Inter"], "logo_safe_zone_pct": 10.0,
                         "logo_asset_id": "logo-1"}
INSTRUCTION = 'Launch banner with the headline "Meet Nova 2.0" about our new analytics app, CTA: Get started'
# Shapes the logo keeps its clear space from (the brand graphic too); surfaces (background, media area, border) may
# carry the logo.
ELEMENT_SHAPES = {"band", "circle", "corner", "frame", "block", "kicker", "button", "panel", "graphic"}


def png_logo(width: int = 300, height: int = 100, colors: tuple[str, str] = ("#0A2540", "#635BFF")) -> bytes:
    logo = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.ellipse((0, 0, height - 1, height - 1), fill=colors[0])
    draw.rectangle((height + 10, height // 3, width - 1, 2 * height // 3), fill=colors[1])
    buffer = io.BytesIO()
    logo.save(buffer, format="PNG")
    return buffer.getvalue()


def plan_for(instruction: str = INSTRUCTION, width: int = 1080, height: int = 1080,
             canon: dict[str, Any] | None = CANON) -> dict[str, Any]:
    request = {"prompts": {"task": "create", "instruction": instruction, "references": []},
               "outputs": {"count": 1, "format": "png", "dimensions": f"{width}x{height}"}, "constraints": {}}
    return rule_based_plan(instruction, canon, request)


def design(instruction: str = INSTRUCTION, width: int = 1080, height: int = 1080, **options: Any) -> Design:
    options.setdefault("format", "png")
    options.setdefault("palette", PALETTE)
    return render_design(DesignRequest(plan=plan_for(instruction, width, height), width=width, height=height,
                                       **options))


def decoded(result: Design) -> Image.Image:
    return Image.open(io.BytesIO(result.data))


def box_of(entry: dict[str, Any] | list[int]) -> Box:
    return Box(*(entry["box"] if isinstance(entry, dict) else entry))


@pytest.mark.parametrize(("image_format", "pil_format"), [("png", "PNG"), ("jpg", "JPEG"), ("webp", "WEBP")])
@pytest.mark.parametrize(("width", "height"), [(1080, 1080), (1200, 628), (64, 64), (333, 1777)])
def test_exact_size_format_and_mime(image_format: str, pil_format: str, width: int, height: int) -> None:
    result = design(width=width, height=height, format=image_format, logo=png_logo())
    image = decoded(result)
    assert image.format == pil_format
    assert image.size == (width, height)
    assert (result.width, result.height, result.format, result.mime) == (width, height, image_format,
                                                                         MIME_TYPES[image_format])
    assert not image.info.get("exif")
    assert not image.info.get("icc_profile")


@pytest.mark.parametrize("image_format", ["png", "jpg", "webp"])
def test_same_request_gives_identical_bytes(image_format: str) -> None:
    options = {"format": image_format, "logo": png_logo(), "seed": 3, "fonts": ("Merriweather", "Open Sans")}
    first, second = design(**options), design(**options)
    assert first.data == second.data
    assert first.layout == second.layout
    assert first.notes == second.notes


@pytest.mark.parametrize(("width", "height"), [(1080, 1080), (1200, 628), (1080, 1920), (1600, 300), (900, 1100)])
def test_seeds_zero_to_five_give_distinct_layouts(width: int, height: int) -> None:
    results = [design(width=width, height=height, logo=png_logo(), seed=seed) for seed in range(6)]
    headline_boxes = {tuple(result.layout["text_boxes"][0]["box"]) for result in results}
    assert len(headline_boxes) == 6, headline_boxes
    assert len({result.data for result in results}) == 6
    assert [result.layout["variant"] for result in results] == list(range(6))


def test_the_quoted_headline_is_drawn_verbatim() -> None:
    headline = "Grand Opening \u2014 Caf\u00e9 Z\u00fcrich, 50% off!"
    result = design(f'Poster with the headline "{headline}" for our store opening')
    boxes = {entry["role"]: entry for entry in result.layout["text_boxes"]}
    assert boxes["headline"]["text"] == headline
    assert " ".join(boxes["headline"]["lines"]) == headline
    assert boxes["cta"]["text"] == "Shop now"


def test_a_long_headline_wraps_inside_its_box_and_the_canvas() -> None:
    headline = ("Everything you need to plan, launch and measure every campaign across every channel your "
                "customers use")
    result = design(f'Banner with the headline "{headline}"', width=600, height=600)
    entry = result.layout["text_boxes"][0]
    assert entry["text"] == headline
    assert len(entry["lines"]) >= 3
    box = box_of(entry)
    assert Box(0, 0, 600, 600).contains(box)
    face = resolve_fonts([]).headline.file("bold")
    set_text = fit_text(headline, face, box.w, box.h, entry["size_px"], entry["size_px"], line_spacing=1.08)
    assert set_text is not None
    assert list(set_text.lines) == entry["lines"]


def test_wrapped_lines_are_balanced_not_a_lone_word_on_the_last() -> None:
    face = resolve_fonts([]).headline.file("bold")
    assert face is not None
    full = fit_text("Made for the long run", face, 10_000, 100, 20, 20)
    assert full is not None
    assert len(full.lines) == 1
    # A width where greedy wrapping leaves "run" alone on the second line.
    greedy_width = full.width - 5
    set_text = fit_text("Made for the long run", face, greedy_width, 100, 20, 20)
    assert set_text is not None
    assert len(set_text.lines) == 2
    assert min(len(line.split()) for line in set_text.lines) >= 2


def test_set_text_never_draws_outside_its_box() -> None:
    face = resolve_fonts([]).headline.file("bold")
    set_text = fit_text("Wj\u00c5ngstr\u00f6m fjord, jumpy quay!", face, 260, 200, 60, 8)
    assert set_text is not None
    for align in ("left", "center", "right"):
        canvas = Image.new("L", (400, 400), 0)
        set_text.draw(ImageDraw.Draw(canvas), 70, 90, (255,), align)
        left, top, right, bottom = canvas.getbbox()
        assert (left, top) >= (70, 90)
        assert right <= 70 + set_text.width
        assert bottom <= 90 + set_text.height


def test_an_over_long_word_is_broken_across_lines_and_noted() -> None:
    word = "Pneumonoultramicroscopicsilicovolcanoconiosis"
    result = design(f'Icon with the headline "{word}"', width=64, height=64)
    entry = result.layout["text_boxes"][0]
    assert "".join(entry["lines"]) == word
    assert len(entry["lines"]) > 1
    assert Box(0, 0, 64, 64).contains(box_of(entry))
    assert any("broken across lines" in note for note in result.notes)


def test_a_64_pixel_canvas_renders_and_says_what_it_left_out() -> None:
    instruction = ('Sale poster with the headline "Summer Sale Starts Today" and the subline "Everything in store '
                   'is half price this weekend only", CTA: Shop the sale now')
    result = design(instruction, width=64, height=64, logo=png_logo())
    assert decoded(result).size == (64, 64)
    roles = [entry["role"] for entry in result.layout["text_boxes"]]
    assert roles[0] == "headline"
    assert result.layout["text_boxes"][0]["text"] == "Summer Sale Starts Today"
    assert result.layout["logo_box"] is None
    assert any(note.startswith("logo left out") for note in result.notes)
    for role in ("subline", "cta"):
        label = "call to action" if role == "cta" else role
        assert role in roles or any(note.startswith(f"{label} left out") for note in result.notes)
    for entry in result.layout["text_boxes"]:
        assert Box(0, 0, 64, 64).contains(box_of(entry))


def test_font_substitutions_are_recorded_and_named_in_the_text_boxes() -> None:
    result = design(fonts=("Open Sans", "Merriweather"))
    assert result.font_substitutions == [
        {"requested": "Open Sans", "used": "Liberation Sans",
         "reason": "not uploaded or bundled; closest bundled sans"},
        {"requested": "Merriweather", "used": "Liberation Serif",
         "reason": "not uploaded or bundled; closest bundled serif"},
    ]
    fonts_by_role = {entry["role"]: entry["font"] for entry in result.layout["text_boxes"]}
    assert fonts_by_role == {"headline": "Liberation Sans", "subline": "Liberation Serif", "cta": "Liberation Sans"}


def test_a_project_font_is_used_when_uploaded() -> None:
    upload = (BUNDLE / "DejaVuSerif-Bold.ttf").read_bytes()
    with_upload = design(fonts=("Brand Display",), project_fonts={"Brand Display": upload})
    without = design(fonts=("Brand Display",))
    assert with_upload.font_substitutions == []
    assert {entry["font"] for entry in with_upload.layout["text_boxes"]} == {"Brand Display"}
    assert without.font_substitutions[0]["used"] == "Liberation Sans"
    assert with_upload.data != without.data


def test_copy_outside_the_font_coverage_switches_to_dejavu_and_is_recorded() -> None:
    result = design('Poster with the headline "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd"',
                    fonts=("Liberation Sans",))
    assert result.layout["text_boxes"][0]["font"] == "DejaVu Sans"
    assert result.font_substitutions[0]["used"] == "DejaVu Sans"


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("width", "height", "zone"), [(1080, 1080, 10.0), (1200, 628, 25.0), (1080, 1920, 40.0)])
def test_the_logo_keeps_its_clear_space(width: int, height: int, zone: float, seed: int) -> None:
    result = design(width=width, height=height, logo=png_logo(), logo_safe_zone_pct=zone, seed=seed)
    clear = result.layout["clear_space_px"]
    assert clear >= zone / 100 * min(width, height)
    logo = box_of(result.layout["logo_box"])
    assert edge_clearance(logo, Box(0, 0, width, height)) >= clear
    for entry in result.layout["text_boxes"]:
        assert clearance(logo, box_of(entry)) >= clear, entry
    for shape in result.layout["shapes"]:
        if shape["name"] in ELEMENT_SHAPES:
            assert clearance(logo, box_of(shape)) >= clear, shape


def test_the_logo_is_composited_keeping_its_aspect_ratio() -> None:
    result = design(logo=png_logo(300, 100, ("#635BFF", "#635BFF")))
    logo = box_of(result.layout["logo_box"])
    assert abs(logo.w / logo.h - 3) < 0.1
    pixels = decoded(result).crop((logo.x, logo.y, logo.right, logo.bottom)).getcolors(1 << 16)
    assert max(pixels)[1] in ((0x63, 0x5B, 0xFF), (10, 37, 64), (255, 255, 255))
    assert any(color == (0x63, 0x5B, 0xFF) for _count, color in pixels)


@pytest.mark.parametrize("kit", ["helio-energy", "northwind-coffee"])
def test_a_two_tone_logo_knocks_out_with_its_inner_shapes_cut_out(kit: str) -> None:
    """A one-colour knockout keeps the logo recognisable: one tone is kept, the other cut out (the background shows
    through the letter inside a disc), never the bare silhouette (a blank disc)."""
    from sgd.design.logo import knockout_mask

    path = Path(__file__).resolve().parents[2] / "examples" / "brands" / kit / "logo.png"
    with Image.open(path) as opened:
        logo = np.asarray(opened.convert("RGBA").resize((160, 160), Image.Resampling.LANCZOS)).astype(np.float64)
    luminance = (logo[..., :3] / 255) ** 2.2 @ np.array([0.2126, 0.7152, 0.0722])
    mask = np.asarray(knockout_mask(luminance, logo[..., 3])) > 127
    opaque = logo[..., 3] > 127
    assert 0.3 < mask[opaque].mean() < 0.95  # the other tone is cut out
    rows, cols = np.nonzero(mask)
    assert max(rows.min(), cols.min()) <= 2  # the outline stays
    assert min(rows.max(), cols.max()) >= 157
    one_tone = np.asarray(knockout_mask(np.full(luminance.shape, 0.2), logo[..., 3])) > 127
    assert (one_tone == opaque).mean() > 0.99  # a one-tone logo is its silhouette


def test_a_logo_with_poor_contrast_becomes_a_one_colour_knockout_without_a_plate() -> None:
    navy_logo = png_logo(colors=("#0A2540", "#0A2540"))
    result = design(logo=navy_logo, seed=0)  # seed 0: the brand scheme, navy background
    assert not any(shape["name"] == "logo_plate" for shape in result.layout["shapes"])
    knockout = next(shape for shape in result.layout["shapes"] if shape["name"] == "logo_knockout")
    assert knockout["color"] in PALETTE
    logo = box_of(result.layout["logo_box"])
    pixels = np.asarray(decoded(result).crop((logo.x, logo.y, logo.right, logo.bottom)).convert("RGB"))
    under = pixels[0, 0]  # the logo's transparent corner shows the surface under it
    surface = "#{:02X}{:02X}{:02X}".format(*under)
    assert contrast_ratio(knockout["color"], surface) >= 3
    ink = tuple(int(knockout["color"][i:i + 2], 16) for i in (1, 3, 5))
    assert (pixels == ink).all(axis=2).mean() > 0.2  # the logo's shape, in the knockout colour
    assert any("knockout" in note for note in result.notes)


def test_a_brand_that_forbids_recolouring_its_logo_gets_a_plate_instead() -> None:
    navy_logo = png_logo(colors=("#0A2540", "#0A2540"))
    look = BrandLook.of({"voice": {"tone": "", "dos": [], "donts": ["Never recolour the logo"]}})
    assert not look.logo_recolour
    result = design(logo=navy_logo, seed=0, look=look)
    plate = next(shape for shape in result.layout["shapes"] if shape["name"] == "logo_plate")
    assert plate["color"] in PALETTE
    assert contrast_ratio(plate["color"], "#0A2540") >= 3
    assert Box(*plate["box"]).contains(box_of(result.layout["logo_box"]))
    assert not any(shape["name"] == "logo_knockout" for shape in result.layout["shapes"])


def test_a_guideline_that_asks_for_a_plate_gets_one_even_where_the_logo_is_legible() -> None:
    result = design(logo=png_logo(colors=("#635BFF", "#635BFF")), seed=0, look=BrandLook(logo_plate=True))
    plate = next(shape for shape in result.layout["shapes"] if shape["name"] == "logo_plate")
    assert Box(*plate["box"]).contains(box_of(result.layout["logo_box"]))
    assert Box(*plate["box"]) != box_of(result.layout["logo_box"])  # padded


def test_no_logo_bytes_or_a_plan_without_a_logo_leave_it_out() -> None:
    assert design().layout["logo_box"] is None
    plan = plan_for()
    plan["layout"]["logo_position"] = "none"
    result = render_design(DesignRequest(plan=plan, width=800, height=800, format="png", palette=PALETTE,
                                         logo=png_logo()))
    assert result.layout["logo_box"] is None
    assert "logo left out: the plan places no logo" in result.notes


def test_a_palette_without_a_readable_pair_uses_the_best_pair_and_says_so() -> None:
    palette = ("#767676", "#8A8A8A", "#7F7F7F")
    result = design(palette=palette)
    best = best_text_pair(palette)[2]
    assert best < 3
    assert any(note.startswith("no palette pair reaches") for note in result.notes)
    for entry in result.layout["text_boxes"]:
        assert entry["color"] in palette
        assert entry["background"] in palette
        assert entry["contrast_ratio"] == pytest.approx(best, abs=0.01)
    assert set(result.layout["colors_used"]) <= set(palette)


@pytest.mark.parametrize("seed", range(6))
def test_every_text_box_reaches_its_contrast_on_the_colour_under_it(seed: int) -> None:
    result = design(width=1200, height=628, seed=seed, logo=png_logo())
    image = decoded(result).convert("RGB")
    assert not any(note.startswith("no palette pair") for note in result.notes)
    for entry in result.layout["text_boxes"]:
        assert entry["contrast_ratio"] >= text_threshold(entry["size_px"], entry["role"])
        assert contrast_ratio(entry["color"], entry["background"]) >= text_threshold(entry["size_px"], entry["role"])
        box = box_of(entry)
        counts = sorted(image.crop((box.x, box.y, box.right, box.bottom)).getcolors(1 << 20), reverse=True)
        top = ["#{:02X}{:02X}{:02X}".format(*color) for _count, color in counts[:3]]
        assert entry["background"] == top[0]
        assert entry["color"] in top


def test_imagery_fills_the_picture_area_and_the_copy_sits_on_a_palette_panel() -> None:
    photo = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG")
    result = design(imagery=buffer.getvalue(), logo=png_logo())  # 1080x1080: hero, full bleed
    panel = next(shape for shape in result.layout["shapes"] if shape["name"] == "panel")
    assert panel["color"] in PALETTE
    for entry in result.layout["text_boxes"]:
        assert Box(*panel["box"]).contains(box_of(entry))
        assert entry["contrast_ratio"] >= text_threshold(entry["size_px"], entry["role"])
    # Never the logo as it is on a photo: a knockout where the photo is calm under it, else a plate.
    assert any(shape["name"] in ("logo_plate", "logo_knockout") for shape in result.layout["shapes"])
    colors = decoded(result).convert("RGB").getcolors(1 << 20)
    off_palette = sum(count for count, color in colors if "#{:02X}{:02X}{:02X}".format(*color) not in PALETTE)
    assert off_palette > 0.3 * 1080 * 1080  # the picture is there


def test_unreadable_imagery_and_logo_are_noted_not_fatal() -> None:
    result = design(imagery=b"not an image", logo=b"not a png")
    assert result.layout["logo_box"] is None
    assert "imagery left out: the picture could not be read" in result.notes
    assert "logo left out: the logo file could not be read" in result.notes


def test_a_plan_without_layout_still_renders_from_the_canvas_shape() -> None:
    plan = {"goal": "A plain design", "ops": ["text_overlay"],
            "safety": {"respect_logo_safe_zone": False, "palette_only": True}}
    result = render_design(DesignRequest(plan=plan, width=1200, height=628, format="png", palette=PALETTE))
    assert result.layout["template"] == "split"
    assert result.layout["text_boxes"][0]["text"] == "Untitled Design"


def test_invalid_requests_are_value_errors() -> None:
    with pytest.raises(ValueError, match="palette"):
        render_design(DesignRequest(plan=plan_for(), width=100, height=100, format="png", palette=()))
    with pytest.raises(ValueError, match="format"):
        render_design(DesignRequest(plan=plan_for(), width=100, height=100, format="gif",  # type: ignore[arg-type]
                                    palette=PALETTE))


# -- imagery: where it is, and the palette treatment -----------------------------------------------------------------
def vivid_photo(width: int = 640, height: int = 480, seed: int = 7) -> bytes:
    """A photo-like picture far from PALETTE: a green gradient with texture (seeded, so the same every call)."""
    rng = np.random.default_rng(seed)
    rows, columns = np.mgrid[0:height, 0:width]
    light = columns / width * 140 + rows / height * 60 + rng.normal(0, 14, (height, width))
    green = np.stack([light * 0.25, 90 + light * 0.7, light * 0.2], axis=-1)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(green, 0, 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def hexes(image: Image.Image, box: Box) -> set[str]:
    region = image.convert("RGB").crop((box.x, box.y, box.right, box.bottom))
    return {"#{:02X}{:02X}{:02X}".format(*color) for _count, color in region.getcolors(1 << 22)}


def treated_plan(treatment: str | None, width: int = 1080, height: int = 1080) -> dict[str, Any]:
    plan = plan_for(width=width, height=height)
    if treatment is not None:
        plan["layout"]["imagery_treatment"] = treatment
    return plan


@pytest.mark.parametrize(("width", "height"), [(1080, 1080), (1200, 628), (1080, 1920)])
def test_the_layout_says_where_imagery_was_painted(width: int, height: int) -> None:
    without = design(width=width, height=height)
    assert without.layout["imagery_box"] is None
    assert without.layout["imagery_treatment"] is None
    result = render_design(DesignRequest(plan=treated_plan(None, width, height), width=width, height=height,
                                         format="png", palette=PALETTE, imagery=vivid_photo()))
    box = box_of(result.layout["imagery_box"])
    assert result.layout["imagery_treatment"] == "as_is"
    assert Box(0, 0, width, height).contains(box)
    assert box.area >= 0.3 * width * height
    image = decoded(result).convert("RGB")
    assert not hexes(image, box) <= set(PALETTE)  # the picture is inside the box ...
    outside = np.ones((height, width), dtype=bool)
    outside[box.y:box.bottom, box.x:box.right] = False
    for entry in result.layout["text_boxes"]:  # anti-aliased copy edges blend two palette colours
        text = box_of(entry)
        outside[text.y:text.bottom, text.x:text.right] = False
    pixels = np.asarray(image)[outside]
    palette = np.array([[int(color[i:i + 2], 16) for i in (1, 3, 5)] for color in PALETTE])
    on_palette = (pixels[:, np.newaxis, :] == palette[np.newaxis, :, :]).all(axis=-1).any(axis=-1)
    assert on_palette.all()  # ... and outside it only palette colours


def test_the_palette_treatment_paints_the_picture_in_palette_colours_only() -> None:
    for width, height in ((1080, 1080), (1200, 628)):
        result = render_design(DesignRequest(plan=treated_plan("palette", width, height), width=width,
                                             height=height, format="png", palette=PALETTE, imagery=vivid_photo()))
        assert result.layout["imagery_treatment"] == "palette"
        box = box_of(result.layout["imagery_box"])
        image = decoded(result).convert("RGB")
        for entry in result.layout["text_boxes"]:  # anti-aliased copy edges are not the picture
            text = box_of(entry)
            image.paste((0x0A, 0x25, 0x40), (text.x, text.y, text.right, text.bottom))
        colors = hexes(image, box)
        assert colors <= set(PALETTE)
        assert len(colors) >= 3  # the picture's structure survives as tones, not one flat colour


def test_an_unknown_treatment_is_noted_and_the_picture_used_as_it_is() -> None:
    result = render_design(DesignRequest(plan=treated_plan("sepia"), width=400, height=400, format="png",
                                         palette=PALETTE, imagery=vivid_photo()))
    assert result.layout["imagery_treatment"] == "as_is"
    assert "unknown imagery_treatment 'sepia': the picture was used as it is" in result.notes


@pytest.mark.parametrize("image_format", ["png", "jpg", "webp"])
def test_the_palette_treatment_is_deterministic(image_format: str) -> None:
    def render() -> Design:
        return render_design(DesignRequest(plan=treated_plan("palette"), width=600, height=600,
                                           format=image_format, palette=PALETTE,  # type: ignore[arg-type]
                                           imagery=vivid_photo(), seed=3))

    assert render().data == render().data


def test_the_design_carries_the_pixels_it_encoded() -> None:
    result = design(width=500, height=400, imagery=vivid_photo())
    assert result.image is not None
    assert result.image.size == (500, 400)
    assert result.image.tobytes() == decoded(result).convert("RGB").tobytes()
    assert "PIL" not in repr(result)  # not part of the design's value


@pytest.mark.parametrize("seed", range(6))
def test_the_logo_version_made_for_the_background_under_it_is_drawn(seed: int) -> None:
    """With a dark logo (for light backgrounds) and a white one (for dark backgrounds) uploaded, each design draws
    the version made for the background under its logo, as it is, and says which in its layout and notes."""
    from sgd.design.request import LogoVersion

    dark, light = png_logo(colors=("#0A2540", "#0A2540")), png_logo(colors=("#FFFFFF", "#FFFFFF"))
    result = design(logo=dark, seed=seed, logo_versions=(LogoVersion(dark, "light", "logo-dark"),
                                                         LogoVersion(light, "dark", "logo-white")))
    used = result.layout["logo_version"]
    background = used["background"]
    on_dark = contrast_ratio(background, "#FFFFFF") > contrast_ratio(background, "#000000")
    assert used["treatment"] == "as_is"
    assert used["asset_id"] == ("logo-white" if on_dark else "logo-dark")
    assert used["use_on"] == ("dark" if on_dark else "light")
    logo = box_of(result.layout["logo_box"])
    pixels = np.asarray(decoded(result).crop((logo.x, logo.y, logo.right, logo.bottom)).convert("RGB"))
    ink = (255, 255, 255) if on_dark else (0x0A, 0x25, 0x40)
    assert (pixels == ink).all(axis=2).mean() > 0.3  # that version's own colour, not a knockout
    assert not any(shape["name"] in ("logo_knockout", "logo_plate") for shape in result.layout["shapes"])
    assert any(f"logo version {used['asset_id']}" in note for note in result.notes)


@pytest.mark.parametrize(("background", "expected"), [("#FFFFFF", "logo-dark"), ("#0A2540", "logo-white")])
def test_the_plan_s_background_decides_the_logo_version(background: str, expected: str) -> None:
    from sgd.design.request import LogoVersion

    dark, light = png_logo(colors=("#0A2540", "#0A2540")), png_logo(colors=("#FFFFFF", "#FFFFFF"))
    plan = plan_for()
    plan["layout"] |= {"background_hex": background, "template": "stack", "logo_position": "top-left"}
    result = render_design(DesignRequest(plan=plan, width=1080, height=1080, format="png", palette=PALETTE,
                                         logo=dark, logo_versions=(LogoVersion(dark, "light", "logo-dark"),
                                                                   LogoVersion(light, "dark", "logo-white"))))
    assert result.layout["logo_version"] == {"asset_id": expected, "use_on": "light" if expected == "logo-dark"
                                             else "dark", "treatment": "as_is", "background": background}


def test_a_single_logo_gets_a_knockout_only_where_it_is_not_legible_and_the_layout_says_so() -> None:
    navy_logo = png_logo(colors=("#0A2540", "#0A2540"))
    treatments = {design(logo=navy_logo, seed=seed).layout["logo_version"]["treatment"] for seed in range(6)}
    assert treatments == {"as_is", "knockout"}
