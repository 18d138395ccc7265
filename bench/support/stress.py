"""The critic's stress set: labelled designs with known defects, made from free compositions and from the design
engine (through its public entry points only: rule_based_plan and render_design, as tests/unit/test_design_engine.py
calls them).

Every case says which classes (palette, contrast, logo) must be reported, with the defect's box, and which must stay
silent; a class it says nothing about is not scored. Families:

- `palette_fill`: a forbidden or off-palette fill of 0.1-10 % of the canvas (rectangle, disc or blob);
- `colour_role`: a canon colour used against one of the canon's usage rules (never_background, never_text,
  no_text_on, cta_only, proportion);
- `contrast`: one line of text at a measured contrast of 1.05:1 to 4.4:1 (below what its size and weight require),
  12-120 px, regular or bold, on a flat, gradient or photographic background; `contrast_ok` the same at a passing
  contrast (including bold text of 19-23 px at 3.2-4.2:1, large by WCAG's 14 pt bold);
- `logo_edge`, `logo_overlap`, `logo_recoloured`, `logo_missing`: logo defects; `logo_ok`: the logo as ingested,
  knocked out in one colour, on a plate, on a panel, on a photo behind a plate, all with their clear space;
- `clean_reencode`: defect-free compositions and engine renders as JPEG or WebP at quality 60-95, or resized.

The generator draws from a seeded numpy Generator: `cases(seed, count)` is deterministic. Shapes, words, fonts,
sizes, positions and colours are drawn at random, so a critic tuned to one layout does not pass.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[2]
FONTS = ROOT / "layers" / "imaging" / "fonts"
KITS = ROOT / "examples" / "brands"
Box = tuple[int, int, int, int]
CLASSES = ("palette", "contrast", "logo")
FAMILIES = ("palette_fill", "colour_role", "contrast", "contrast_ok", "logo_edge", "logo_overlap",
            "logo_recoloured", "logo_missing", "logo_ok", "clean_reencode")
WORDS = ("spring", "open", "house", "fresh", "roast", "every", "morning", "join", "the", "webinar", "register",
         "now", "visit", "us", "on", "main", "street", "bright", "floral", "energy", "for", "all", "homes",
         "solar", "season", "launch", "event", "learn", "more", "today", "quality", "coffee", "beans", "our")
FACES = {("sans", False): "LiberationSans-Regular.ttf", ("sans", True): "LiberationSans-Bold.ttf",
         ("serif", False): "LiberationSerif-Regular.ttf", ("serif", True): "LiberationSerif-Bold.ttf",
         ("dejavu", False): "DejaVuSans.ttf", ("dejavu", True): "DejaVuSans-Bold.ttf"}
SIZES = ((1080, 1080), (1200, 628), (800, 1000))


@dataclass
class StressCase:
    name: str
    family: str
    data: bytes  # the design's file (PNG, JPEG or WebP)
    canon: dict[str, Any]
    logo_png: bytes | None
    defects: dict[str, list[Box]]  # class -> the defects' boxes (must be reported, a box overlapping one)
    clean: set[str]  # classes that must report nothing
    notes: dict[str, Any] = field(default_factory=dict)


# --- colour ------------------------------------------------------------------------------------------------------


def luminance(rgb: Any) -> np.ndarray:
    values = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def ratio(first: Any, second: Any) -> np.ndarray:
    a, b = luminance(first), luminance(second)
    return (np.maximum(a, b) + 0.05) / (np.minimum(a, b) + 0.05)


def hex_of(rgb: Any) -> str:
    return "#{:02X}{:02X}{:02X}".format(*(int(v) for v in rgb))


def rgb_of(value: str) -> tuple[int, int, int]:
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def colour_at_ratio(background: tuple[int, int, int], target: float, toward: tuple[int, int, int]
                    ) -> tuple[int, int, int] | None:
    """The blend of `background` toward `toward` whose contrast with the background is closest to `target`."""
    base = np.array(background, dtype=np.float64)
    goal = np.array(toward, dtype=np.float64)
    if float(ratio(base, goal)) < target:
        return None
    low, high = 0.0, 1.0
    for _ in range(30):
        middle = (low + high) / 2
        if float(ratio(base, np.rint(base + middle * (goal - base)))) < target:
            low = middle
        else:
            high = middle
    best = np.rint(base + high * (goal - base)).astype(int)
    return int(best[0]), int(best[1]), int(best[2])


def _lab(rgb: Any) -> np.ndarray:
    values = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)
    xyz = linear @ np.array([[0.4124, 0.2126, 0.0193], [0.3576, 0.7152, 0.1192], [0.1805, 0.0722, 0.9505]])
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def far_from(colour: Any, others: list[tuple[int, int, int]], distance: float = 25.0) -> bool:
    """Euclidean CIELAB distance from every colour in `others` at least `distance` (CIEDE2000 is smaller)."""
    lab = _lab(colour)
    return all(float(np.linalg.norm(lab - _lab(other))) >= distance for other in others)


# --- the brand of a free composition ---------------------------------------------------------------------------


@dataclass
class Brand:
    palette: list[tuple[int, int, int]]  # [light background, dark ink, accent, secondary]
    forbidden: list[tuple[int, int, int]]
    logo: Image.Image  # RGBA footprint
    safe_zone_pct: float

    def canon(self, **extra: Any) -> dict[str, Any]:
        logo_colours = _logo_colours(self.logo)
        palette = list(dict.fromkeys([hex_of(c) for c in self.palette] + logo_colours))
        return {"palette_hex": palette, "forbidden_hex": [hex_of(c) for c in self.forbidden], "fonts": [],
                "logo_safe_zone_pct": self.safe_zone_pct, "logo_asset_id": "logo"} | extra

    def logo_png(self) -> bytes:
        return _png(self.logo)


def _logo_colours(logo: Image.Image) -> list[str]:
    """The logo's flat colours (each over 3 % of its opaque pixels): a brand's logo colours are brand colours."""
    pixels = np.asarray(logo)
    opaque = pixels[pixels[..., 3] == 255][:, :3]
    if not len(opaque):
        return []
    colours, counts = np.unique(opaque, axis=0, return_counts=True)
    return [hex_of(colour) for colour, count in zip(colours, counts, strict=True) if count >= 0.03 * len(opaque)]


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def encode(image: Image.Image, image_format: str = "png", quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    if image_format == "png":
        image.save(buffer, format="PNG")
    elif image_format == "jpg":
        image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    else:
        image.convert("RGB").save(buffer, format="WEBP", quality=quality)
    return buffer.getvalue()


def kit_logos() -> list[Image.Image]:
    logos = []
    for path in sorted(KITS.glob("*/logo.png")):
        with Image.open(path) as opened:
            logo = opened.convert("RGBA")
        logos.append(logo.crop(logo.getchannel("A").getbbox()))
    return logos


def drawn_logo(rng: np.random.Generator, ink: tuple[int, int, int], accent: tuple[int, int, int]) -> Image.Image:
    """A wordmark with a mark beside it: a disc, square or triangle and two to five letters."""
    letters = "".join(rng.choice(list("ABCDEFGHKMNPRSTWXZ"), int(rng.integers(2, 6))))
    face = ImageFont.truetype(str(FONTS / FACES[(str(rng.choice(["sans", "serif"])), bool(rng.integers(2)))]), 120)
    probe = ImageDraw.Draw(Image.new("RGBA", (10, 10)))
    left, top, right, bottom = probe.textbbox((0, 0), letters, font=face)
    mark = bottom - top
    logo = Image.new("RGBA", (mark + 30 + right - left, mark), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    shape = int(rng.integers(3))
    if shape == 0:
        draw.ellipse((0, 0, mark - 1, mark - 1), fill=accent)
    elif shape == 1:
        draw.rectangle((0, 0, mark - 1, mark - 1), fill=accent)
    else:
        draw.polygon([(0, mark - 1), (mark // 2, 0), (mark - 1, mark - 1)], fill=accent)
    draw.text((mark + 30 - left, -top), letters, fill=ink, font=face)
    return logo


def brand(rng: np.random.Generator, logos: list[Image.Image]) -> Brand:
    """A random brand: a light background, a dark ink, two saturated colours, forbidden colours far from all."""
    def random_colour(lightness: tuple[float, float], chroma: float) -> tuple[int, int, int]:
        hue = rng.uniform(0, 2 * math.pi)
        for _ in range(200):
            light = rng.uniform(*lightness)
            rgb = np.array([light + chroma * math.cos(hue + shift) for shift in (0, 2.1, 4.2)]) * 255
            if (rgb >= 0).all() and (rgb <= 255).all():
                return int(rgb[0]), int(rgb[1]), int(rgb[2])
            chroma *= 0.9
        return int(light * 255), int(light * 255), int(light * 255)

    palette = [random_colour((0.93, 0.99), 0.02), random_colour((0.08, 0.2), 0.06)]
    while len(palette) < 4:
        candidate = random_colour((0.35, 0.7), 0.3)
        if far_from(candidate, palette, 30):
            palette.append(candidate)
    forbidden: list[tuple[int, int, int]] = []
    while len(forbidden) < 2:
        candidate = random_colour((0.2, 0.85), 0.35)
        if far_from(candidate, palette, 30):
            forbidden.append(candidate)
    pick = int(rng.integers(len(logos) + 1))
    logo = logos[pick] if pick < len(logos) else drawn_logo(rng, palette[1], palette[2])
    return Brand(palette, forbidden, logo, float(rng.choice([6.0, 8.0, 10.0])))


# --- drawing -----------------------------------------------------------------------------------------------------


def font(rng: np.random.Generator, size: float, bold: bool) -> ImageFont.FreeTypeFont:
    family = str(rng.choice(["sans", "serif", "dejavu"]))
    return ImageFont.truetype(str(FONTS / FACES[(family, bold)]), max(6, round(size)))


def words(rng: np.random.Generator, low: int = 2, high: int = 4) -> str:
    chosen = [str(word) for word in rng.choice(WORDS, int(rng.integers(low, high + 1)))]
    text = " ".join(chosen)
    return text[0].upper() + text[1:]


def gradient(size: tuple[int, int], first: tuple[int, int, int], second: tuple[int, int, int],
             angle: float) -> Image.Image:
    width, height = size
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    t = (xs * math.cos(angle) + ys * math.sin(angle))
    t = (t - t.min()) / max(1e-9, t.max() - t.min())
    pixels = np.array(first)[None, None] * (1 - t[..., None]) + np.array(second)[None, None] * t[..., None]
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8))


def photo(rng: np.random.Generator, size: tuple[int, int], lightness: tuple[float, float] = (0.15, 0.85)
          ) -> Image.Image:
    """A photograph-like texture: smooth colour fields of several scales plus fine grain."""
    width, height = size
    total = np.zeros((height, width, 3))
    for cells, weight in ((3, 1.0), (9, 0.5), (27, 0.25), (81, 0.12)):
        field_ = rng.uniform(0, 1, (cells, max(2, round(cells * width / height)), 3))
        layer = Image.fromarray((field_ * 255).astype(np.uint8)).resize((width, height), Image.Resampling.BICUBIC)
        total += weight * np.asarray(layer, dtype=np.float64) / 255
    total /= 1.87
    tint = rng.uniform(0.6, 1.0, 3)
    low, high = lightness
    total = low + (high - low) * (total - total.min()) / max(1e-9, np.ptp(total))
    total = total * tint + rng.normal(0, 0.015, total.shape)
    return Image.fromarray(np.clip(total * 255, 0, 255).astype(np.uint8))


def blob(rng: np.random.Generator, box: Box) -> list[tuple[float, float]]:
    x, y, w, h = box
    points = []
    count = int(rng.integers(7, 13))
    for index in range(count):
        angle = 2 * math.pi * index / count
        radius = rng.uniform(0.6, 1.0)
        points.append((x + w / 2 + radius * w / 2 * math.cos(angle), y + h / 2 + radius * h / 2 * math.sin(angle)))
    return points


def fill_shape(draw: ImageDraw.ImageDraw, rng: np.random.Generator, box: Box, colour: tuple[int, int, int]) -> None:
    x, y, w, h = box
    kind = int(rng.integers(3))
    if kind == 0:
        draw.rectangle((x, y, x + w - 1, y + h - 1), fill=colour)
    elif kind == 1:
        draw.ellipse((x, y, x + w - 1, y + h - 1), fill=colour)
    else:
        draw.polygon(blob(rng, box), fill=colour)


def scaled_logo(logo: Image.Image, width: int) -> Image.Image:
    height = max(1, round(width * logo.height / logo.width))
    return logo.resize((width, height), Image.Resampling.LANCZOS)


def knockout(logo: Image.Image, colour: tuple[int, int, int], keep_dark: bool) -> Image.Image:
    """A one-colour version: the darker (or lighter) half of the logo's opaque pixels in `colour`, the rest cut out
    (where a two-tone logo's other colour was, the background shows)."""
    pixels = np.asarray(logo).astype(np.float64)
    alpha = pixels[..., 3] / 255
    light = pixels[..., :3] @ np.array([0.299, 0.587, 0.114])
    opaque = alpha > 0.5
    middle = float(np.percentile(light[opaque], 10) + np.percentile(light[opaque], 90)) / 2 if opaque.any() else 128.0
    spread = max(8.0, float(np.percentile(light[opaque], 90) - np.percentile(light[opaque], 10)) / 2)
    share = np.clip((middle - light) / spread + 0.5, 0, 1) if keep_dark else \
        np.clip((light - middle) / spread + 0.5, 0, 1)
    kept = (share > 0.5) & opaque
    if not _spans(kept, opaque):
        share = 1 - share  # the other half is the one that spans the logo (a disc with cut-outs)
        kept = (share > 0.5) & opaque
    if not _spans(kept, opaque) or kept[opaque].mean() > 0.95:
        share = np.ones_like(share)  # separate parts (mark and wordmark): the silhouette is the knockout
    out = np.zeros(pixels.shape, dtype=np.uint8)
    out[..., :3] = colour
    out[..., 3] = np.clip(np.rint(alpha * share * 255), 0, 255).astype(np.uint8)
    return Image.fromarray(out, "RGBA")


def _spans(kept: np.ndarray, opaque: np.ndarray) -> bool:
    """Whether the kept pixels reach (nearly) every side of the logo's footprint."""
    if not kept.any():
        return False
    rows, cols = np.nonzero(kept)
    all_rows, all_cols = np.nonzero(opaque)
    return (rows.max() - rows.min()) >= 0.9 * (all_rows.max() - all_rows.min()) and \
        (cols.max() - cols.min()) >= 0.9 * (all_cols.max() - all_cols.min())


def recoloured(logo: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The logo with its hues turned and its colours inverted or shifted: a colour no guideline allows."""
    pixels = np.asarray(logo).astype(np.float64)
    rgb = pixels[..., :3]
    mode = int(rng.integers(2))
    rgb = 255 - rgb if mode == 0 else rgb[..., [2, 0, 1]] * 0.6 + np.array(rng.uniform(40, 200, 3)) * 0.4
    out = np.concatenate([np.clip(rgb, 0, 255), pixels[..., 3:]], axis=-1)
    return Image.fromarray(np.rint(out).astype(np.uint8), "RGBA")


# --- compositions ------------------------------------------------------------------------------------------------


@dataclass
class Composition:
    image: Image.Image
    logo_box: Box | None
    occupied: list[Box]  # the boxes of what is drawn (text, shapes): defects are placed clear of them
    text_colours: list[tuple[int, int, int]]


def _free_spot(rng: np.random.Generator, size: tuple[int, int], want: tuple[int, int], occupied: list[Box],
               margin: int = 8) -> Box | None:
    width, height = size
    w, h = want
    for _ in range(200):
        if w + 2 * margin >= width or h + 2 * margin >= height:
            return None
        x, y = int(rng.integers(margin, width - w - margin)), int(rng.integers(margin, height - h - margin))
        box = (x, y, w, h)
        if all(not _overlaps(_grown(box, margin), other) for other in occupied):
            return box
    return None


def _grown(box: Box, by: int) -> Box:
    return box[0] - by, box[1] - by, box[2] + 2 * by, box[3] + 2 * by


def _overlaps(first: Box, second: Box) -> bool:
    return first[0] < second[0] + second[2] and second[0] < first[0] + first[2] and \
        first[1] < second[1] + second[3] and second[1] < first[1] + first[3]


def _logo_clear_box(logo_box: Box, brand: Brand, size: tuple[int, int]) -> Box:
    zone = math.ceil(brand.safe_zone_pct / 100 * min(size)) + 4
    return _grown(logo_box, zone)


def compose(rng: np.random.Generator, brand: Brand, size: tuple[int, int], *, logo: bool = True,
            text_lines: int = 2) -> Composition:
    """A clean design: the brand's background, a logo with its clear space, a headline and a subline in the ink
    colour, and a shape or two in the accent colours."""
    width, height = size
    background = brand.palette[0]
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    occupied: list[Box] = []
    logo_box = None
    if logo:
        logo_width = round(min(size) * rng.uniform(0.12, 0.25))
        mark = scaled_logo(brand.logo, logo_width)
        zone = math.ceil(brand.safe_zone_pct / 100 * min(size)) + 6
        corner = int(rng.integers(4))
        x = zone if corner in (0, 2) else width - zone - mark.width
        y = zone if corner in (0, 1) else height - zone - mark.height
        image.paste(mark, (x, y), mark)
        logo_box = (x, y, mark.width, mark.height)
        occupied.append(_logo_clear_box(logo_box, brand, size))
    colours = []
    for index in range(text_lines):
        size_px = rng.uniform(48, 96) if index == 0 else rng.uniform(22, 40)
        face = font(rng, size_px, bool(rng.integers(2)))
        text = words(rng)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=face)
        spot = _free_spot(rng, size, (right - left, bottom - top), occupied, 16)
        if spot is None:
            continue
        draw.text((spot[0] - left, spot[1] - top), text, fill=brand.palette[1], font=face)
        occupied.append(spot)
        colours.append(brand.palette[1])
    for _ in range(int(rng.integers(1, 3))):
        want = (int(rng.integers(40, max(41, width // 4))), int(rng.integers(40, max(41, height // 5))))
        spot = _free_spot(rng, size, want, occupied, 16)
        if spot is not None:
            fill_shape(draw, rng, spot, brand.palette[int(rng.integers(2, 4))])
            occupied.append(spot)
    return Composition(image, logo_box, occupied, colours)


# --- the families ------------------------------------------------------------------------------------------------


def palette_fill(rng: np.random.Generator, brand: Brand, size: tuple[int, int], name: str) -> StressCase:
    design = compose(rng, brand, size)
    width, height = size
    share = float(np.exp(rng.uniform(math.log(0.001), math.log(0.1))))
    side = math.sqrt(share * width * height)
    aspect = rng.uniform(0.5, 2.0)
    want = (max(4, round(side * math.sqrt(aspect))), max(4, round(side / math.sqrt(aspect))))
    spot = _free_spot(rng, size, want, design.occupied, 12)
    if spot is None:
        spot = _free_spot(rng, size, (max(4, want[0] // 2), max(4, want[1] // 2)), design.occupied, 4) \
            or (width // 2, height // 2, 8, 8)
    forbidden = bool(rng.integers(2))
    if forbidden:
        colour = brand.forbidden[int(rng.integers(len(brand.forbidden)))]
    else:
        colour = brand.palette[0]
        while not far_from(colour, brand.palette + brand.forbidden, 30):
            colour = tuple(int(v) for v in rng.integers(0, 256, 3))  # type: ignore[assignment]
    fill_shape(ImageDraw.Draw(design.image), rng, spot, colour)
    return StressCase(name, "palette_fill", encode(design.image), brand.canon(), brand.logo_png(),
                      {"palette": [spot]}, {"contrast", "logo"},
                      {"share": round(share, 4), "colour": hex_of(colour), "forbidden": forbidden})


def colour_role(rng: np.random.Generator, brand: Brand, size: tuple[int, int], name: str) -> StressCase:
    """One usage rule broken, and every other kept."""
    accent, secondary = hex_of(brand.palette[2]), hex_of(brand.palette[3])
    rule = str(rng.choice(["never_background", "never_text", "no_text_on", "cta_only", "proportion"]))
    design = compose(rng, brand, size)
    width, height = size
    draw = ImageDraw.Draw(design.image)
    rules: list[dict[str, Any]] = []
    if rule == "never_background":
        rules = [{"kind": "never_background", "hex": accent}]
        # the whole canvas in the accent, with its text and logo on it
        image = Image.new("RGB", size, brand.palette[2])
        box: Box = (0, 0, width, height)
        face = font(rng, rng.uniform(50, 90), True)
        draw = ImageDraw.Draw(image)
        draw.text((width // 10, height // 2), words(rng), fill=brand.palette[0], font=face)
        design = Composition(image, None, [], [])
        rules.append({"kind": "never_text", "hex": hex_of(brand.palette[1])})
    elif rule == "never_text":
        rules = [{"kind": "never_text", "hex": accent}]
        face = font(rng, rng.uniform(30, 80), bool(rng.integers(2)))
        text = words(rng)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=face)
        spot = _free_spot(rng, size, (right - left, bottom - top), design.occupied, 12) or (20, 20, 10, 10)
        draw.text((spot[0] - left, spot[1] - top), text, fill=brand.palette[2], font=face)
        box = spot
    elif rule == "no_text_on":
        rules = [{"kind": "no_text_on", "hex": secondary}]
        face = font(rng, rng.uniform(30, 60), True)
        text = words(rng, 1, 2)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=face)
        pad = 24
        spot = _free_spot(rng, size, (right - left + 2 * pad, bottom - top + 2 * pad), design.occupied, 12) \
            or (20, 20, 10, 10)
        draw.rectangle((spot[0], spot[1], spot[0] + spot[2] - 1, spot[1] + spot[3] - 1), fill=brand.palette[3])
        ink = brand.palette[0] if float(ratio(brand.palette[0], brand.palette[3])) > \
            float(ratio(brand.palette[1], brand.palette[3])) else brand.palette[1]
        draw.text((spot[0] + pad - left, spot[1] + pad - top), text, fill=ink, font=face)
        box = spot
    elif rule == "cta_only":
        rules = [{"kind": "cta_only", "hex": accent}]
        want = (int(width * rng.uniform(0.3, 0.6)), int(height * rng.uniform(0.2, 0.35)))
        spot = _free_spot(rng, size, want, design.occupied, 12) or (0, height - want[1], want[0], want[1])
        draw.rectangle((spot[0], spot[1], spot[0] + spot[2] - 1, spot[1] + spot[3] - 1), fill=brand.palette[2])
        box = spot
    else:
        rules = [{"kind": "proportion", "hex": secondary, "min_pct": 0, "max_pct": 5}]
        want = (int(width * rng.uniform(0.4, 0.7)), int(height * rng.uniform(0.3, 0.5)))
        spot = _free_spot(rng, size, want, design.occupied, 12) or (0, 0, want[0], want[1])
        draw.rectangle((spot[0], spot[1], spot[0] + spot[2] - 1, spot[1] + spot[3] - 1), fill=brand.palette[3])
        box = spot
    canon = brand.canon(usage_rules=rules)
    if rule == "never_background":
        canon["logo_asset_id"] = None
    return StressCase(name, "colour_role", encode(design.image), canon,
                      brand.logo_png() if canon.get("logo_asset_id") else None, {"palette": [box]}, set(),
                      {"rule": rule})


def _text_truth(pixels: np.ndarray, mask: np.ndarray, ink: tuple[int, int, int], reach: int) -> float:
    """The contrast of the ink against the 10th percentile of the background within `reach` px of the glyphs."""
    grown = Image.fromarray(mask.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(2 * reach + 1))
    ring = (np.asarray(grown) > 0) & ~np.asarray(
        Image.fromarray(mask.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(3)), dtype=bool)
    values = ratio(pixels[ring], np.array(ink))
    return float(np.percentile(values, 10)) if values.size else 21.0


def contrast(rng: np.random.Generator, brand: Brand, size: tuple[int, int], name: str, *, failing: bool
             ) -> StressCase | None:
    _width, _height = size
    backdrop = str(rng.choice(["flat", "gradient", "photo"]))
    bold = bool(rng.integers(2))
    band = int(rng.integers(3))
    if not failing and band == 0:
        size_px = rng.uniform(20, 22.5) if bold else rng.uniform(26, 40)  # large by WCAG: 3:1 is enough
    else:
        size_px = float(np.exp(rng.uniform(math.log(12), math.log(120))))
        if 17 < size_px < 20 or 22.5 < size_px < 26:
            size_px = float(rng.choice([16.0, 30.0]))
    large = size_px >= 24 or (bold and size_px >= 18.67)
    required = 3.0 if large else 4.5
    if failing:
        target = float(np.exp(rng.uniform(math.log(1.05), math.log(min(4.4, required * 0.9)))))
    else:
        target = float(rng.uniform(required * 1.15, max(required * 1.5, 7.0)))
        if not large and band == 0:
            target = float(rng.uniform(5.3, 8))
    design = compose(rng, brand, size, text_lines=0)
    base = design.image
    light_bg = bool(rng.integers(2)) if backdrop != "flat" else True
    if backdrop == "flat":
        bg_colour = brand.palette[int(rng.choice([0, 0, 2, 3]))]
        light_bg = float(luminance(bg_colour)) > 0.18
    elif backdrop == "gradient":
        start = brand.palette[0] if light_bg else brand.palette[1]
        end = colour_at_ratio(start, 1.25, (0, 0, 0) if light_bg else (255, 255, 255)) or start
        bg_colour = start
    else:
        bg_colour = (200, 200, 200) if light_bg else (50, 50, 50)
    face = font(rng, size_px, bold)
    text = words(rng, 1, 3 if size_px > 60 else 4)
    probe = ImageDraw.Draw(base)
    left, top, right, bottom = probe.textbbox((0, 0), text, font=face)
    pad = max(12, round(size_px * 0.6))
    spot = _free_spot(rng, size, (right - left + 2 * pad, bottom - top + 2 * pad), design.occupied, 8)
    if spot is None:
        return None
    x, y, w, h = spot
    if backdrop == "flat":
        panel = Image.new("RGB", (w, h), bg_colour)
    elif backdrop == "gradient":
        panel = gradient((w, h), start, end, float(rng.uniform(0, math.pi)))
    else:
        panel = photo(rng, (w, h), (0.7, 0.95) if light_bg else (0.05, 0.3))
    # A text colour toward dark or light (with some chroma), so that its contrast with the backdrop is `target`.
    reference = tuple(int(v) for v in np.asarray(panel).reshape(-1, 3).mean(0))
    hue = np.array(brand.palette[int(rng.integers(1, 4))], dtype=np.float64)
    toward = np.clip(hue * 0.3 + (0 if light_bg else 255) * 0.7, 0, 255) if failing or backdrop != "flat" else \
        np.array((0, 0, 0) if light_bg else (255, 255, 255))
    if float(ratio(reference, toward)) < target:
        toward = np.array((0, 0, 0) if light_bg else (255, 255, 255), dtype=np.float64)
    ink = colour_at_ratio(reference, target, tuple(int(v) for v in toward))  # type: ignore[arg-type]
    if ink is None:
        return None
    mask_image = Image.new("L", (w, h), 0)
    ImageDraw.Draw(mask_image).text((pad - left, pad - top), text, fill=255, font=face)
    panel.paste(Image.new("RGB", (w, h), ink), (0, 0), mask_image)
    base.paste(panel, (x, y))
    mask = np.asarray(mask_image) > 127
    truth = _text_truth(np.asarray(panel), mask, ink, max(2, round(0.25 * size_px)))
    if (failing and truth >= required * 0.93) or (not failing and truth < required * 1.08):
        return None  # too close to the line to label
    ys, xs = np.nonzero(np.asarray(mask_image) > 0)
    text_box = (x + int(xs.min()), y + int(ys.min()), int(xs.max() - xs.min()) + 1, int(ys.max() - ys.min()) + 1)
    canon = brand.canon()
    canon["palette_hex"] = list(dict.fromkeys(canon["palette_hex"] + [hex_of(ink), hex_of(bg_colour)]))
    palette_scored = {"palette"} if backdrop == "flat" else set()
    return StressCase(name, "contrast" if failing else "contrast_ok", encode(base), canon, brand.logo_png(),
                      {"contrast": [text_box]} if failing else {},
                      ({"logo"} | palette_scored) | (set() if failing else {"contrast"}),
                      {"backdrop": backdrop, "size_px": round(size_px, 1), "bold": bold, "target": round(target, 3),
                       "truth": round(truth, 3), "large": large, "text": text})


def logo_case(rng: np.random.Generator, brand: Brand, size: tuple[int, int], name: str, family: str
              ) -> StressCase | None:
    width, height = size
    design = compose(rng, brand, size, logo=False)
    image = design.image
    zone = math.ceil(brand.safe_zone_pct / 100 * min(size))
    logo_width = round(min(size) * rng.uniform(0.12, 0.3))
    mark = scaled_logo(brand.logo, logo_width)
    variant = "as_ingested"
    defects: dict[str, list[Box]] = {}
    if family == "logo_ok":
        variant = str(rng.choice(["as_ingested", "knockout", "plate", "panel", "photo_plate"]))
    if family == "logo_missing":
        return StressCase(name, family, encode(image), brand.canon(), brand.logo_png(),
                          {"logo": [(0, 0, width, height)]}, set(), {})
    if family == "logo_recoloured":
        mark = recoloured(mark, rng)
    mw, mh = mark.size
    if family == "logo_edge":
        side = int(rng.integers(4))
        inset = int(rng.integers(0, max(1, zone // 3)))
        x = inset if side == 0 else width - mw - inset if side == 2 else int(rng.integers(zone, width - mw - zone))
        y = inset if side == 1 else height - mh - inset if side == 3 else int(rng.integers(zone, height - mh - zone))
        under = str(rng.choice(["canvas", "dark_panel", "graphic"]))
        if under != "canvas":
            panel_box = _grown((x, y, mw, mh), zone + 10)
            colour = brand.palette[1] if under == "dark_panel" else brand.palette[int(rng.integers(2, 4))]
            ImageDraw.Draw(image).rectangle((panel_box[0], panel_box[1], panel_box[0] + panel_box[2],
                                             panel_box[1] + panel_box[3]), fill=colour)
            if float(ratio(colour, brand.palette[1])) < 2.0 or under == "dark_panel":
                mark = knockout(mark, brand.palette[0], keep_dark=bool(rng.integers(2)))
            variant = under
        defects["logo"] = [(x, y, mw, mh)]
    else:
        spot = _free_spot(rng, size, (mw + 2 * zone + 12, mh + 2 * zone + 12), design.occupied, 0)
        if spot is None:
            return None
        x, y = spot[0] + zone + 6, spot[1] + zone + 6
        if variant == "knockout":
            dark = bool(rng.integers(2))
            panel_colour = brand.palette[1] if dark else brand.palette[int(rng.integers(2, 4))]
            ImageDraw.Draw(image).rectangle((spot[0], spot[1], spot[0] + spot[2], spot[1] + spot[3]),
                                            fill=panel_colour)
            mark = knockout(mark, brand.palette[0], keep_dark=bool(rng.integers(2)))
        elif variant in ("plate", "panel", "photo_plate"):
            if variant == "photo_plate":
                image.paste(photo(rng, (spot[2] + 2 * zone, spot[3] + 2 * zone)), (spot[0] - zone, spot[1] - zone))
            # A plate inside the clear space (rounded), or a panel reaching well beyond it (square corners: a
            # rounded corner inside the zone's corner is an edge the clear-space check sees).
            plate_pad = zone // 2 if variant != "panel" else zone + 6
            plate = _grown((x, y, mw, mh), plate_pad)
            colour = brand.palette[0] if variant != "panel" else brand.palette[int(rng.integers(2, 4))]
            ImageDraw.Draw(image).rounded_rectangle((plate[0], plate[1], plate[0] + plate[2], plate[1] + plate[3]),
                                                    radius=plate_pad // 2 if variant != "panel" else 0, fill=colour)
            if variant == "panel" and float(ratio(colour, brand.palette[1])) < 3.0:
                mark = knockout(mark, brand.palette[0], keep_dark=bool(rng.integers(2)))
        if family == "logo_overlap":
            side = int(rng.integers(4))
            reach = int(rng.integers(-mh // 4, max(1, zone // 3)))
            thing = (int(rng.integers(mw // 2, mw * 2)), int(rng.integers(mh // 3, mh)))
            if side == 0:
                box = (x + mw + reach, y + int(rng.integers(-thing[1] // 2, mh // 2)), *thing)
            elif side == 1:
                box = (x - reach - thing[0], y + int(rng.integers(-thing[1] // 2, mh // 2)), *thing)
            elif side == 2:
                box = (x + int(rng.integers(-thing[0] // 2, mw // 2)), y + mh + reach, *thing)
            else:
                box = (x + int(rng.integers(-thing[0] // 2, mw // 2)), y - reach - thing[1], *thing)
            fill_shape(ImageDraw.Draw(image), rng, box, brand.palette[int(rng.integers(1, 4))])
            defects["logo"] = [(x, y, mw, mh)]
            variant = "overlapped"
        if family == "logo_recoloured":
            defects["logo"] = [(x, y, mw, mh)]
    image.paste(mark, (x, y), mark)
    canon = brand.canon()
    if family == "logo_recoloured":
        canon["palette_hex"] = list(dict.fromkeys(canon["palette_hex"] + _logo_colours(mark)))
    # A photograph's own colours are judged by the looser photo rule, outside what this family labels.
    clean = {"contrast"} | (set() if family == "logo_recoloured" or variant == "photo_plate" else {"palette"})
    if family == "logo_ok":
        clean.add("logo")
    return StressCase(name, family, encode(image), canon, brand.logo_png(), defects, clean,
                      {"variant": variant, "logo_box": [x, y, mw, mh]})


def clean_reencode(rng: np.random.Generator, brand: Brand, size: tuple[int, int], name: str,
                   engine: bool) -> StressCase:
    if engine:
        image, canon, logo_png = engine_render(rng, size)
    else:
        image, canon, logo_png = compose(rng, brand, size).image, brand.canon(), brand.logo_png()
    how = str(rng.choice(["jpg", "webp", "resize"]))
    if how == "resize":
        factor = float(rng.choice([0.5, 0.75, 1.25]))
        image = image.resize((round(image.width * factor), round(image.height * factor)), Image.Resampling.LANCZOS)
        data, quality = encode(image), None
    else:
        quality = int(rng.integers(60, 96))
        data = encode(image, how, quality)
    return StressCase(name, "clean_reencode", data, canon, logo_png, {}, set(CLASSES),
                      {"how": how, "quality": quality, "engine": engine})


def engine_render(rng: np.random.Generator, size: tuple[int, int]) -> tuple[Image.Image, dict[str, Any], bytes]:
    """A design engine render of an example kit, through its public entry points."""
    import json

    from sgd.design.engine import DesignRequest, render_design
    from sgd.design.planner import rule_based_plan

    kits = sorted(path.parent for path in KITS.glob("*/truth.json"))
    kit = kits[int(rng.integers(len(kits)))]
    canon = json.loads((kit / "truth.json").read_text(encoding="utf-8")) | {"logo_asset_id": "logo"}
    logo_png = (kit / "logo.png").read_bytes()
    instruction = f'Poster with the headline "{words(rng)}", CTA: {words(rng, 1, 2)}'
    width, height = size
    request = {"prompts": {"task": "create", "instruction": instruction, "references": []},
               "outputs": {"count": 1, "format": "png", "dimensions": f"{width}x{height}"}, "constraints": {}}
    plan = rule_based_plan(instruction, canon, request)
    design = render_design(DesignRequest(plan=plan, width=width, height=height, format="png",
                                         palette=tuple(canon["palette_hex"]), fonts=tuple(canon.get("fonts") or ()),
                                         logo=logo_png, logo_safe_zone_pct=float(canon["logo_safe_zone_pct"]),
                                         seed=int(rng.integers(1000))))
    with Image.open(io.BytesIO(design.data)) as opened:
        return opened.convert("RGB"), canon, logo_png


def cases(seed: int, count: int, families: tuple[str, ...] = FAMILIES, engine: bool = True) -> Iterator[StressCase]:
    """`count` cases, the families in turn, each drawn from one seeded generator (deterministic)."""
    rng = np.random.default_rng(seed)
    logos = kit_logos()
    made = 0
    attempts = 0
    while made < count and attempts < count * 6:
        attempts += 1
        family = families[made % len(families)]
        the_brand = brand(rng, logos)
        size = SIZES[int(rng.integers(len(SIZES)))]
        name = f"{family}-{seed}-{made}"
        case: StressCase | None
        if family == "palette_fill":
            case = palette_fill(rng, the_brand, size, name)
        elif family == "colour_role":
            case = colour_role(rng, the_brand, size, name)
        elif family in ("contrast", "contrast_ok"):
            case = contrast(rng, the_brand, size, name, failing=family == "contrast")
        elif family == "clean_reencode":
            case = clean_reencode(rng, the_brand, size, name, engine and bool(rng.integers(2)))
        else:
            case = logo_case(rng, the_brand, size, name, family)
        if case is not None:
            made += 1
            yield case
