"""Properties of the design engine over random instructions, canvas sizes, palettes, logos and seeds (issue 4):
exact size; at least 95% of non-logo pixels within CIEDE2000 3 of a palette colour; every text box meets its
contrast (or the palette has no such pair and a note says so); the logo keeps its clear space; no text outside the
canvas."""

import io
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw
from sgd.design.color import best_text_pair
from sgd.design.color_roles import text_threshold
from sgd.design.colorimetry import nearest_palette_distance, srgb_to_lab
from sgd.design.engine import DesignRequest, render_design
from sgd.design.geometry import Box, clearance, edge_clearance
from sgd.design.imagery import map_to_palette
from sgd.design.planner import palette_in_use, rule_based_plan

ELEMENT_SHAPES = {"band", "circle", "corner", "frame", "block", "kicker", "button", "panel", "graphic"}
MAX_DELTA_E = 3.0
MIN_ON_PALETTE = 0.95

hex_colors = st.integers(0, 0xFFFFFF).map(lambda value: f"#{value:06X}")
palettes = st.lists(hex_colors, min_size=2, max_size=6, unique=True)
copy_text = st.text(
    alphabet=st.sampled_from([*"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,.!?&%-",
                              "\u00e9", "\u00fc", "\u00df", "\u00e7", "\u2019", "\u20ac", "\u0416", "\u03a9"]),
    min_size=1, max_size=110,
).filter(lambda text: any(char.isalnum() for char in text))
instructions = st.one_of(
    st.sampled_from([
        "Make a bold banner for our spring sale with a clear CTA",
        "Instagram post announcing the Helio solar webinar, register now",
        "Design a minimal poster about the new coffee subscription with the logo in the top right corner",
        "Story for the product launch of Nova 2.0 featuring the analytics dashboard",
        "Create a LinkedIn ad, we are hiring senior engineers, no logo",
    ]),
    st.builds(lambda headline, subline: f'Poster with the headline "{headline}" and the subline "{subline}"',
              copy_text, copy_text),
    st.builds(lambda headline, cta: f'Banner saying "{headline}", CTA: {cta}', copy_text,
              copy_text.map(lambda text: text.replace(",", " ")[:30])),
)


def logo_png(width: int, height: int, colors: list[str]) -> bytes:
    logo = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.ellipse((0, 0, min(width, height) - 1, min(width, height) - 1), fill=colors[0])
    draw.rectangle((width // 2, height // 4, width - 1, 3 * height // 4), fill=colors[-1])
    buffer = io.BytesIO()
    logo.save(buffer, format="PNG")
    return buffer.getvalue()


@settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    instruction=instructions,
    width=st.integers(64, 1600),
    height=st.integers(64, 1600),
    palette=palettes,
    seed=st.integers(0, 11),
    logo_size=st.one_of(st.none(), st.tuples(st.integers(40, 600), st.integers(40, 600))),
    safe_zone=st.floats(0, 40, allow_nan=False),
    fonts=st.lists(st.sampled_from(["Inter", "Georgia", "Fira Code", "Liberation Serif", "Open Sans"]), max_size=2),
)
def test_design_engine_properties(instruction: str, width: int, height: int, palette: list[str], seed: int,
                                  logo_size: tuple[int, int] | None, safe_zone: float, fonts: list[str]) -> None:
    canon: dict[str, Any] = {"palette_hex": palette, "fonts": fonts, "logo_safe_zone_pct": safe_zone}
    if logo_size:
        canon["logo_asset_id"] = "logo"
    request = {"prompts": {"task": "create", "instruction": instruction, "references": []},
               "outputs": {"count": 1, "format": "png", "dimensions": f"{width}x{height}"}, "constraints": {}}
    plan = rule_based_plan(instruction, canon, request)
    allowed = tuple(palette_in_use(canon, request))
    logo = logo_png(*logo_size, palette) if logo_size else None
    result = render_design(DesignRequest(plan=plan, width=width, height=height, format="png", palette=allowed,
                                         fonts=tuple(fonts), logo=logo, logo_safe_zone_pct=safe_zone, seed=seed))

    image = Image.open(io.BytesIO(result.data)).convert("RGB")
    assert image.size == (width, height) == (result.width, result.height)
    canvas = Box(0, 0, width, height)
    layout = result.layout
    logo_box = Box(*layout["logo_box"]) if layout["logo_box"] else None

    # Colour: fills and text are palette colours; only anti-aliased edges (and the logo) may differ.
    pixels = np.asarray(image).astype(np.uint32)
    packed = (pixels[..., 0] << 16) | (pixels[..., 1] << 8) | pixels[..., 2]
    mask = np.ones((height, width), dtype=bool)
    if logo_box:
        mask[logo_box.y:logo_box.bottom, logo_box.x:logo_box.right] = False
    values, counts = np.unique(packed[mask], return_counts=True)  # distinct colours: few, so CIEDE2000 is cheap
    colors = np.stack([(values >> 16) & 255, (values >> 8) & 255, values & 255], axis=-1)
    _index, distance = nearest_palette_distance(srgb_to_lab(colors), allowed)
    on_palette = counts[distance <= MAX_DELTA_E].sum() / counts.sum()
    assert on_palette >= MIN_ON_PALETTE, (on_palette, layout)
    assert set(layout["colors_used"]) <= set(allowed)

    # Copy: the headline is always there, verbatim, and no text box leaves the canvas.
    boxes = layout["text_boxes"]
    assert boxes
    assert boxes[0]["role"] == "headline"
    assert boxes[0]["text"] == plan["layout"]["headline"]
    best_pair = best_text_pair(allowed)[2] if len(set(allowed)) > 1 else 1.0
    for entry in boxes:
        box = Box(*entry["box"])
        assert box.w > 0, entry
        assert box.h > 0, entry
        assert canvas.contains(box), entry
        threshold = text_threshold(entry["size_px"], entry["role"])
        if entry["contrast_ratio"] < threshold:
            assert best_pair < threshold, (entry, best_pair)
            assert any(note.startswith(f"no palette pair reaches {threshold:g}:1") for note in result.notes)

    # Logo: clear space from the edges and from every other element.
    if logo_box:
        clear = layout["clear_space_px"]
        assert clear >= safe_zone / 100 * min(width, height) - 1e-9
        assert edge_clearance(logo_box, canvas) >= clear
        for entry in boxes:
            assert clearance(logo_box, Box(*entry["box"])) >= clear, (entry, logo_box, clear)
        for shape in layout["shapes"]:
            if shape["name"] in ELEMENT_SHAPES:
                assert clearance(logo_box, Box(*shape["box"])) >= clear, (shape, logo_box, clear)
    elif logo:
        assert any(note.startswith("logo left out") for note in result.notes)


# -- the palette treatment of imagery --------------------------------------------------------------------------------
def photo_like(width: int, height: int, cells: int, noise: float, seed: int) -> Image.Image:
    """A random smooth colour field (a few random colours, bicubically enlarged) with grain: photo-like."""
    rng = np.random.default_rng(seed)
    field = Image.fromarray(rng.integers(0, 256, (cells, cells, 3), dtype=np.uint8)).resize(
        (width, height), Image.Resampling.BICUBIC)
    grain = rng.normal(0, noise, (height, width, 3))
    return Image.fromarray(np.clip(np.asarray(field) + grain, 0, 255).astype(np.uint8))


def isolated_share(image: Image.Image) -> float:
    """The share of pixels none of whose 8 neighbours has their colour: speckle."""
    rgb = np.asarray(image.convert("RGB")).astype(np.int64)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    padded = np.pad(packed, 1, mode="edge")
    height, width = packed.shape
    alike = sum((padded[1 + dy:1 + dy + height, 1 + dx:1 + dx + width] == packed).astype(np.int8)
                for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx)
    return float((alike == 0).mean())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(width=st.integers(64, 1200), height=st.integers(64, 1200), palette=st.lists(hex_colors, min_size=1, max_size=6,
                                                                                    unique=True),
       picture=st.tuples(st.integers(32, 900), st.integers(32, 900), st.integers(2, 12), st.floats(0, 25),
                         st.integers(0, 2**32 - 1)),
       seed=st.integers(0, 5), task=st.sampled_from(["edit", "variations"]))
def test_the_palette_treatment_puts_only_palette_colours_in_the_picture_area(
        width: int, height: int, palette: list[str], picture: tuple[int, int, int, float, int], seed: int,
        task: str) -> None:
    source = photo_like(*picture)
    buffer = io.BytesIO()
    source.save(buffer, format="PNG")
    canon: dict[str, Any] = {"palette_hex": palette, "logo_safe_zone_pct": 8}
    request = {"prompts": {"task": task, "instruction": 'Edit the photo: "Summer days"', "references": ["p"]},
               "outputs": {"count": 1, "format": "png", "dimensions": f"{width}x{height}"}, "constraints": {},
               "repair": {"attempt": 1, "violations": [{"kind": "palette", "message": "off-palette picture",
                                                        "severity": "high", "box": None}]}}
    plan = rule_based_plan('Edit the photo: "Summer days"', canon, request)
    assert plan["layout"]["imagery_treatment"] == "palette"
    allowed = tuple(palette_in_use(canon, request))
    result = render_design(DesignRequest(plan=plan, width=width, height=height, format="png", palette=allowed,
                                         seed=seed, imagery=buffer.getvalue()))
    if result.layout["imagery_box"] is None:  # a tiny canvas leaves the picture out to fit the headline
        assert any("picture area" in note for note in result.notes)
        return
    box = Box(*result.layout["imagery_box"])
    pixels = np.asarray(Image.open(io.BytesIO(result.data)).convert("RGB"))
    picture_area = np.zeros((height, width), dtype=bool)
    picture_area[box.y:box.bottom, box.x:box.right] = True
    for entry in result.layout["text_boxes"]:  # anti-aliased copy edges blend two palette colours
        text = Box(*entry["box"])
        picture_area[text.y:text.bottom, text.x:text.right] = False
    colors = np.unique(pixels[picture_area].reshape(-1, 3), axis=0)
    _index, distance = nearest_palette_distance(srgb_to_lab(colors), allowed)
    assert float(distance.max(initial=0.0)) <= MAX_DELTA_E, colors[distance > MAX_DELTA_E][:5]


@settings(max_examples=30, deadline=None)
@given(picture=st.tuples(st.integers(32, 700), st.integers(32, 700), st.integers(2, 12), st.floats(0, 25),
                         st.integers(0, 2**32 - 1)),
       palette=st.lists(hex_colors, min_size=1, max_size=8, unique=True))
def test_the_palette_treatment_keeps_the_pictures_shapes_without_speckle(
        picture: tuple[int, int, int, float, int], palette: list[str]) -> None:
    source = photo_like(*picture)
    toned = map_to_palette(source, palette)
    assert toned.size == source.size
    assert {"#{:02X}{:02X}{:02X}".format(*color) for _n, color in toned.getcolors(1 << 22)} <= set(palette)
    assert isolated_share(toned) <= 0.001
    assert map_to_palette(source, palette).tobytes() == toned.tobytes()
