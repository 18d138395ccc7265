"""measure_design end to end: SGD's own renders pass (with layout and as external images), an off-canon patch fails
palette with a box over it, the format is checked, and bad bytes are a 422, never a crash."""

import io
import zlib
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw
from sgd.critique.measure import UndecodableImage, decode_design, measure_design
from sgd.critique.policy import load_critique_policy
from sgd.design.colorimetry import ciede2000, hex_to_lab
from sgd.design.engine import DesignRequest, render_design
from sgd.design.planner import palette_in_use, rule_based_plan

POLICY = load_critique_policy()
INSTRUCTION = 'Poster with the headline "Fresh roast, every morning" and the subline "Visit us on Main Street"'


def logo_png(colours: list[str]) -> bytes:
    logo = Image.new("RGBA", (120, 120), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.ellipse((0, 0, 119, 119), fill=colours[0])
    draw.rectangle((40, 30, 80, 90), fill=colours[-1])
    buffer = io.BytesIO()
    logo.save(buffer, format="PNG")
    return buffer.getvalue()


def render(palette: list[str], width: int, height: int, seed: int, image_format: str, *, logo: bool = True,
           safe_zone: float = 8.0) -> tuple[Any, dict[str, Any]]:
    canon = {"palette_hex": palette, "forbidden_hex": [], "fonts": ["Liberation Sans"],
             "logo_safe_zone_pct": safe_zone, "logo_asset_id": "logo" if logo else None}
    request = {"prompts": {"task": "create", "instruction": INSTRUCTION, "references": []},
               "outputs": {"count": 1, "format": image_format, "dimensions": f"{width}x{height}"}, "constraints": {}}
    design = render_design(DesignRequest(
        plan=rule_based_plan(INSTRUCTION, canon, request), width=width, height=height, format=image_format,
        palette=tuple(palette_in_use(canon, request)), fonts=("Liberation Sans",),
        logo=logo_png(palette) if logo else None, logo_safe_zone_pct=safe_zone, seed=seed))
    return design, canon


def distinct(palette: list[str]) -> bool:
    labs = np.stack([hex_to_lab(colour) for colour in palette])
    return float(ciede2000(labs[:, None, :], labs[None, :, :])[np.triu_indices(len(palette), 1)].min()) >= 10


hex_colours = st.integers(0, 0xFFFFFF).map(lambda value: f"#{value:06X}")
sizes = st.sampled_from([(1080, 1080), (1200, 628), (1080, 1920), (600, 600), (400, 500)])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(palette=st.lists(hex_colours, min_size=2, max_size=5, unique=True), size=sizes, seed=st.integers(0, 11),
       image_format=st.sampled_from(["png", "jpg", "webp"]), patch=hex_colours, spot=st.tuples(
           st.floats(0, 0.7), st.floats(0, 0.7), st.floats(0.25, 0.3), st.floats(0.25, 0.3)))
def test_an_on_canon_render_passes_and_an_off_canon_patch_fails(palette: list[str], size: tuple[int, int],
                                                                seed: int, image_format: str, patch: str,
                                                                spot: tuple[float, float, float, float]) -> None:
    assume(distinct(palette))
    width, height = size
    design, canon = render(palette, width, height, seed, image_format)
    # A palette without a readable pair cannot make readable text: the engine says so, and the critic rightly objects.
    assume(not any(note.startswith("no palette pair reaches") for note in design.notes))
    image = decode_design(design.data)
    expected = {"width": width, "height": height, "format": image_format}
    measured = measure_design(image, canon, POLICY, layout=design.layout, expected=expected)
    assert measured.violations == []
    assert measured.score == 1.0
    assert set(measured.checks) == {"palette", "contrast", "logo_safe_zone", "format"}
    assert measured.checks["contrast"]["source"] == "layout"
    assert all(box["ok"] for box in measured.checks["contrast"]["text_boxes"])

    labs = np.stack([hex_to_lab(colour) for colour in palette])
    assume(float(ciede2000(hex_to_lab(patch), labs).min()) > POLICY.flat_delta_e + (1 if image_format == "png" else 5))
    x, y = round(spot[0] * width), round(spot[1] * height)
    w, h = round(spot[2] * width), round(spot[3] * height)  # >= 6% of the canvas
    logo = design.layout["logo_box"]
    assume(logo is None or x + w <= logo[0] or logo[0] + logo[2] <= x or y + h <= logo[1] or logo[1] + logo[3] <= y)
    pixels = image.copy()
    ImageDraw.Draw(pixels).rectangle((x, y, x + w - 1, y + h - 1), fill=patch)
    buffer = io.BytesIO()
    pixels.save(buffer, format={"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}[image_format], quality=90)
    patched = measure_design(decode_design(buffer.getvalue()), canon, POLICY, layout=design.layout)
    boxes = [violation["box"] for violation in patched.violations if violation["kind"] == "palette"]
    assert any(bx <= x and by <= y and bx + bw >= x + w and by + bh >= y + h for bx, by, bw, bh in boxes)
    assert patched.score < 1.0


@pytest.mark.parametrize(("size", "seed", "image_format"), [
    ((1080, 1080), 0, "png"), ((1200, 628), 1, "jpg"), ((1080, 1920), 2, "webp"), ((1080, 1080), 3, "webp"),
    ((600, 600), 4, "jpg"), ((1200, 628), 5, "png")])
def test_renders_without_layout_pass_as_external_images(size: tuple[int, int], seed: int, image_format: str) -> None:
    palette = ["#0B3D91", "#FFB81C", "#FFFFFF", "#1A1A1A"]
    design, canon = render(palette, *size, seed, image_format, logo=False)
    measured = measure_design(decode_design(design.data), canon, POLICY)
    assert measured.checks["contrast"]["source"] == "detected"
    assert measured.checks["contrast"]["text_boxes"], "the headline is found"
    assert measured.violations == []


def test_the_logo_clear_space_comes_from_the_layout() -> None:
    palette = ["#3B2314", "#C8A27A", "#F4EDE4", "#D9482B"]
    design, canon = render(palette, 1080, 1080, 0, "png", safe_zone=10)
    image = decode_design(design.data)
    assert measure_design(image, canon, POLICY, layout=design.layout).checks["logo_safe_zone"]["ok"] is True
    moved = dict(design.layout) | {"logo_box": [4, 4, *design.layout["logo_box"][2:]]}
    measured = measure_design(image, canon, POLICY, layout=moved)
    kinds = [violation["kind"] for violation in measured.violations]
    assert kinds
    assert set(kinds) == {"logo_safe_zone"}
    assert any("edge" in violation["message"] for violation in measured.violations)
    assert measured.checks["logo_safe_zone"]["ok"] is False
    assert measured.score == POLICY.score([violation["severity"] for violation in measured.violations])


def test_format_mismatch_is_a_high_violation() -> None:
    design, canon = render(["#0B3D91", "#FFFFFF"], 600, 600, 0, "png", logo=False)
    image = decode_design(design.data)
    ok = measure_design(image, canon, POLICY, layout=design.layout, expected={"width": 600, "height": 600,
                                                                               "format": "image/png"})
    assert ok.checks["format"]["ok"] is True
    wrong = measure_design(image, canon, POLICY, layout=design.layout,
                           expected={"width": 1080, "height": 1080, "format": "jpg"})
    (violation,) = wrong.violations
    assert violation["kind"] == "format"
    assert violation["severity"] == "high"
    assert "600x600" in violation["message"]
    assert "JPEG" in violation["message"]
    assert wrong.repair_suggestions == ["Export the design as JPEG 1080x1080"]


def png_bytes(mode: str = "RGB", size: tuple[int, int] = (64, 64), colour: Any = "#0B3D91") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def noisy_png() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def test_decode_keeps_the_format_and_flattens_transparency_on_white() -> None:
    image = decode_design(png_bytes("RGBA", colour=(255, 0, 0, 0)))
    assert image.mode == "RGB"
    assert image.format == "PNG"
    assert image.getpixel((0, 0)) == (255, 255, 255)


def gif_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="GIF")
    return buffer.getvalue()


def bomb_png() -> bytes:
    """A valid PNG header claiming 20000 x 20000 pixels (400 MP)."""
    header = b"\x89PNG\r\n\x1a\n"
    ihdr = (20000).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    chunk = len(ihdr).to_bytes(4, "big") + b"IHDR" + ihdr + zlib.crc32(b"IHDR" + ihdr).to_bytes(4, "big")
    return header + chunk


@pytest.mark.parametrize("data", [b"", b"not an image at all", png_bytes()[:60], noisy_png()[:6000], gif_bytes(),
                                  b"%PDF-1.7\n", bomb_png()])
def test_bad_bytes_are_a_422_not_a_crash(data: bytes) -> None:
    with pytest.raises(UndecodableImage) as raised:
        decode_design(data)
    assert raised.value.status_code == 422
    assert raised.value.code == "image_undecodable"
    assert any(hint in raised.value.message for hint in ("PNG", "pixels", "empty"))


def test_the_pixel_limit_is_configurable() -> None:
    with pytest.raises(UndecodableImage, match="over 1,000 pixels"):
        decode_design(png_bytes(size=(40, 40)), max_pixels=1000)


def test_codec_noise_does_not_move_a_canon_pairs_contrast_verdict() -> None:
    # #E039F2 on #000084 is 4.53:1; JPEG moves the text's measured colour to about #DF39F1 (4.49:1). A flat colour
    # within the codec's drift of a canon colour is that canon colour, so the render passes.
    design, canon = render(["#000084", "#E039F2"], 400, 500, 1, "jpg")
    measured = measure_design(decode_design(design.data), canon, POLICY, layout=design.layout)
    assert measured.violations == []
    assert {box["color"] for box in measured.checks["contrast"]["text_boxes"]} == {"#E039F2"}
    assert all(box["ratio"] == 4.52 for box in measured.checks["contrast"]["text_boxes"])
