"""The logo in a design: decoded and cropped (cached for warm invocations), placed in a corner with its clear space,
and drawn on a plate when the colour under it would leave it illegible."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from sgd.design.color import contrast_ratio, parse_hex
from sgd.design.color_roles import ColorRoles
from sgd.design.geometry import Box, Corner
from sgd.design.layout import LogoPlacement, place_logo
from sgd.design.paint import Painted
from sgd.design.planner import TEMPLATE_LAYOUTS
from sgd.lru import LruCache

LOGO_MIN_CONTRAST = 3.0  # WCAG 1.4.11 non-text contrast
LOGO_LEGIBLE_SHARE = 0.6  # share of the logo's ink that must reach LOGO_MIN_CONTRAST, else it goes on a plate
LOGO_CORNERS: tuple[Corner, ...] = ("top-left", "top-right", "bottom-left", "bottom-right")
CORNER_BY_NAME: dict[str, Corner] = {corner: corner for corner in LOGO_CORNERS}


COMPACT_SCALE = 0.55  # the compact size tried when the full-size logo leaves the copy no room


def logo_options(logo: _Logo | None, layout_plan: Mapping[str, Any], template: str, canvas: Box, clear: int,
                 margin: int, *, slot: Box | None, min_width: int, plate: bool,
                 notes: list[str]) -> list[LogoPlacement]:
    """Where the logo may go, best first: the layout's logo slot or the plan's corner at full size, then compact,
    then compact in the other corners. Empty (with a note saying why) when the logo is left out."""
    position = layout_plan.get("logo_position")
    if logo is None:
        if position in LOGO_CORNERS:
            notes.append("no logo available: the plan's logo_position was not used")
        return []
    if position == "none":
        notes.append("logo left out: the plan places no logo")
        return []
    preferred: Corner = CORNER_BY_NAME.get(str(position), TEMPLATE_LAYOUTS[template].logo_corner)
    corners: list[Corner] = [preferred, *(corner for corner in LOGO_CORNERS if corner != preferred)]
    width, height = logo.image.width, logo.image.height
    tries: list[tuple[Corner, float, Box | None]] = [(preferred, 1.0, slot), (preferred, COMPACT_SCALE, slot)]
    if slot is None:
        tries.extend((other, COMPACT_SCALE, None) for other in corners[1:])
    options: list[LogoPlacement] = []
    for corner, scale, in_slot in tries:
        placement = place_logo(canvas, corner, width, height, clear, margin, scale=scale, min_width=min_width,
                               plate=plate, slot=in_slot)
        if placement is not None and placement not in options:
            options.append(placement)
    if not options:
        notes.append(f"logo left out: at its minimum width ({min_width}px), with its clear space ({clear}px), it "
                     f"does not fit a {canvas.w}x{canvas.h} canvas")
    return options


@dataclass(frozen=True)
class _Logo:
    image: Image.Image  # RGBA, transparent margins cropped
    digest: str  # identifies the logo file in the cache
    use_on: str = "any"  # the backgrounds this version is made for: light, dark or any
    asset_id: str | None = None


_LOGO_CACHE_LIMIT = 16  # decoded and scaled logos, kept for warm invocations (a brand reuses one logo)
_logo_cache: LruCache[tuple[str, int, int], Any] = LruCache(_LOGO_CACHE_LIMIT)


def _cached(key: tuple[str, int, int], make: Any) -> Any:
    return _logo_cache.get_or_make(key, make)


def decode_logo(data: bytes, notes: list[str], use_on: str = "any", asset_id: str | None = None) -> _Logo | None:
    digest = hashlib.sha256(data).hexdigest()
    decoded = _cached((digest, 0, 0), lambda: _read_logo(data))
    if isinstance(decoded, str):
        notes.append(decoded if asset_id is None else f"{decoded} (version {asset_id})")
        return None
    return _Logo(decoded, digest, use_on, asset_id)


def decode_logos(primary: bytes | None, versions: Sequence[Any], notes: list[str]) -> tuple[_Logo | None,
                                                                                             list[_Logo]]:
    """The logo that places the design's logo (the canon's logo, else its first version) and the uploaded versions
    (sgd.design.request.LogoVersion), each once; the primary carries its version's background when it is one."""
    decoded = [logo for version in versions
               if (logo := decode_logo(version.data, notes, version.use_on, version.asset_id)) is not None]
    logo = decode_logo(primary, notes) if primary else None
    if logo is None:
        return (decoded[0] if decoded else None), decoded
    same = next((version for version in decoded if version.digest == logo.digest), None)
    return (same or logo), decoded


OPAQUE_BACKGROUND_DISTANCE = 40  # RGB distance from an opaque logo's border colour beyond which a pixel is ink


def _read_logo(data: bytes) -> Image.Image | str:
    """The logo cropped to its visible pixels, or the note saying why it cannot be used. An opaque logo (no
    transparency, e.g. a JPEG on white) gets an alpha channel from its distance to its border colour, so its own
    background does not become a box on the design."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            logo = opened.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError):
        return "logo left out: the logo file could not be read"
    if logo.getchannel("A").getextrema()[0] == 255:
        logo = _alpha_from_border(logo)
    bounds = logo.getchannel("A").getbbox()
    if bounds is None:
        return "logo left out: the logo is fully transparent"
    return logo.crop(bounds)  # transparent margins would eat into the clear space


def _alpha_from_border(logo: Image.Image) -> Image.Image:
    pixels = np.asarray(logo.convert("RGB")).astype(np.int32)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    background = np.median(border, axis=0)
    distance = np.sqrt(((pixels - background) ** 2).sum(axis=2))
    if (distance > OPAQUE_BACKGROUND_DISTANCE).mean() > 0.9:  # no plain border: the picture is the logo
        return logo
    alpha = np.clip((distance - OPAQUE_BACKGROUND_DISTANCE / 2) * (255 / OPAQUE_BACKGROUND_DISTANCE), 0, 255)
    result = logo.copy()
    result.putalpha(Image.fromarray(alpha.astype(np.uint8), "L"))
    return result


def draw_logo(image: Image.Image, logo: _Logo, placement: LogoPlacement, painted: Painted, colors: ColorRoles,
              notes: list[str], *, plate: bool = False, recolour: bool = True,
              versions: Sequence[_Logo] = ()) -> tuple[Box, dict[str, Any]]:
    """Draws the logo as it is where it is legible (3:1 on most of its ink): of its uploaded versions, the one made
    for the background under it (a light or a dark one) that is legible there; else a one-colour knockout version in
    the palette colour that stands out most (when the brand allows recolouring), else on a plate. `plate`: the
    guideline puts the logo on a plate always. Returns the box drawn and what was drawn (the version's asset id, the
    background it is made for, as is / knockout / plate, the colour under it)."""
    box = placement.logo
    under = _solid_color_under(placement.element, painted)
    surface = under or _dominant_color(image, placement.element, colors.palette)
    allowed = [color for color in colors.palette if colors.rules.may_decorate(color)] or list(colors.palette)
    tone = _lightness(surface)
    chosen, scaled, drawn = _version_for(logo, versions, box, surface, tone)
    used = {"asset_id": chosen.asset_id, "use_on": chosen.use_on, "treatment": "as_is", "background": surface}
    if not plate and scaled.legible_share(surface) >= LOGO_LEGIBLE_SHARE and under is not None:
        image.paste(scaled.image, (drawn.x, drawn.y), scaled.image)
        if versions:
            notes.append(f"logo version {chosen.asset_id} (made for {chosen.use_on} backgrounds) drawn on the "
                         f"{tone} {surface}")
        return drawn, used
    if not plate and recolour:
        ink = max((color for color in allowed if color != surface),
                  key=lambda color: contrast_ratio(color, surface), default=None)
        calm = under is not None or (ink is not None and _share_reaching(image, placement.element, ink) >= CALM_SHARE)
        if ink is not None and calm and contrast_ratio(ink, surface) >= LOGO_MIN_CONTRAST:
            image.paste(parse_hex(ink), (drawn.x, drawn.y), scaled.mask)
            painted.append((drawn, "logo", ink, "logo_knockout"))
            made_for = f" (no uploaded version is legible on the {tone} {surface})" if versions else ""
            notes.append(f"logo drawn as a one-colour knockout in {ink} on {surface}{made_for}")
            return drawn, used | {"treatment": "knockout"}
    plate_color = max(allowed, key=scaled.legible_share)
    ImageDraw.Draw(image).rectangle(
        (placement.element.x, placement.element.y, placement.element.right - 1, placement.element.bottom - 1),
        fill=parse_hex(plate_color))
    painted.append((placement.element, "rect", plate_color, "logo_plate"))
    if not plate:
        notes.append(f"logo placed on a {plate_color} plate for contrast")
    if scaled.legible_share(plate_color) < LOGO_LEGIBLE_SHARE:
        notes.append("no palette colour gives the logo 3:1 contrast; used the best plate")
    image.paste(scaled.image, (drawn.x, drawn.y), scaled.image)
    return drawn, used | {"treatment": "plate", "background": plate_color}


def _lightness(color: str) -> str:
    """"light" when black text would read better on `color` than white, else "dark"."""
    return "light" if contrast_ratio(color, "#000000") >= contrast_ratio(color, "#FFFFFF") else "dark"


def _version_for(logo: _Logo, versions: Sequence[_Logo], box: Box, surface: str,
                 tone: str) -> tuple[_Logo, _ScaledLogo, Box]:
    """The version to draw on `surface`: legible there first, then made for its lightness (then for any), then the
    most legible; the logo itself when no versions were uploaded. A version of another shape is fitted inside the
    logo's box, centred."""
    candidates = list({version.digest: version for version in [*versions, logo]}.values()) if versions else [logo]
    best: tuple[tuple[bool, int, float], _Logo, _ScaledLogo, Box] | None = None
    for version in candidates:
        drawn = _fitted(box, version.image)
        scaled: _ScaledLogo = _cached((version.digest, drawn.w, drawn.h),
                                      lambda image=version.image, drawn=drawn: _ScaledLogo.of(image, drawn.w, drawn.h))
        share = scaled.legible_share(surface)
        made_for = 2 if version.use_on == tone else 1 if version.use_on == "any" else 0
        key = (share >= LOGO_LEGIBLE_SHARE, made_for, share)
        if best is None or key > best[0]:
            best = (key, version, scaled, drawn)
    assert best is not None
    return best[1], best[2], best[3]


def _fitted(box: Box, image: Image.Image) -> Box:
    """The largest box of the image's aspect inside `box`, centred (the box itself when the aspects agree)."""
    scale = min(box.w / image.width, box.h / image.height)
    width, height = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    if abs(width - box.w) <= 1 and abs(height - box.h) <= 1:
        return box
    return Box(box.x + (box.w - width) // 2, box.y + (box.h - height) // 2, width, height)


CALM_SHARE = 0.9  # over imagery, a knockout needs 3:1 on this share of the pixels under it; else it goes on a plate


def _share_reaching(image: Image.Image, box: Box, ink: str) -> float:
    """The share of the pixels in `box` on which `ink` reaches LOGO_MIN_CONTRAST."""
    region = np.asarray(image.crop((box.x, box.y, box.right, box.bottom)))
    luminance = _LINEAR[region] @ np.array([0.2126, 0.7152, 0.0722])
    red, green, blue = parse_hex(ink)
    level = 0.2126 * _LINEAR[red] + 0.7152 * _LINEAR[green] + 0.0722 * _LINEAR[blue]
    ratio = (np.maximum(luminance, level) + 0.05) / (np.minimum(luminance, level) + 0.05)
    return float((ratio >= LOGO_MIN_CONTRAST).mean())


def _dominant_color(image: Image.Image, box: Box, palette: Sequence[str]) -> str:
    """The palette colour nearest the mean colour of `box` (over imagery or a multi-colour graphic)."""
    region = np.asarray(image.crop((box.x, box.y, box.right, box.bottom))).reshape(-1, 3).astype(np.float64)
    mean = region.mean(axis=0)
    return min(palette, key=lambda color: sum((a - b) ** 2 for a, b in zip(parse_hex(color), mean, strict=True)))


def _solid_color_under(box: Box, painted: Painted) -> str | None:
    """The single solid colour under `box`, or None when imagery or more than one colour is there."""
    for region, kind, color, _name in reversed(painted):
        if region.intersects(box):
            return color if kind == "rect" and region.contains(box) else None
    return painted[0][2]


_LINEAR = np.array([c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
                    for c in (value / 255 for value in range(256))])


@dataclass(frozen=True)
class _ScaledLogo:
    image: Image.Image
    luminance: np.ndarray  # WCAG relative luminance per pixel
    alpha: np.ndarray
    mask: Image.Image  # the shape of a one-colour knockout version (see knockout_mask)

    @staticmethod
    def of(logo: Image.Image, width: int, height: int) -> _ScaledLogo:
        # Premultiplied alpha while resampling, so transparent pixels do not bleed dark fringes into the edges.
        scaled = logo.convert("RGBa").resize((width, height), Image.Resampling.LANCZOS).convert("RGBA")
        pixels = np.asarray(scaled)
        luminance = _LINEAR[pixels[..., :3]] @ np.array([0.2126, 0.7152, 0.0722])
        alpha = pixels[..., 3].astype(np.float64)
        return _ScaledLogo(scaled, luminance, alpha, knockout_mask(luminance, alpha))

    def legible_share(self, color: str) -> float:
        """The alpha-weighted share of the logo's pixels with at least 3:1 contrast on `color`."""
        total = self.alpha.sum()
        if total <= 0:
            return 0.0
        red, green, blue = parse_hex(color)
        background = 0.2126 * _LINEAR[red] + 0.7152 * _LINEAR[green] + 0.0722 * _LINEAR[blue]
        lighter, darker = np.maximum(self.luminance, background), np.minimum(self.luminance, background)
        return float((self.alpha * ((lighter + 0.05) / (darker + 0.05) >= LOGO_MIN_CONTRAST)).sum() / total)


def knockout_mask(luminance: np.ndarray, alpha: np.ndarray) -> Image.Image:
    """The shape of a one-colour knockout: the logo's darker (or lighter) tone kept, the other tone cut out so the
    background shows through it, as a two-tone mark is knocked out. A disc with a letter inside keeps the letter as
    a cut-out; its bare silhouette would be a blank disc, not the logo. A one-tone logo (or one whose tones are
    separate parts, neither spanning the mark) is its silhouette."""
    opaque = alpha > 127
    silhouette = Image.fromarray(np.clip(np.rint(alpha), 0, 255).astype(np.uint8), "L")
    if np.count_nonzero(opaque) < 16:
        return silhouette
    tone = luminance[opaque]
    low, high = np.percentile(tone, 10), np.percentile(tone, 90)
    if (high + 0.05) / (low + 0.05) < KNOCKOUT_TONE_RATIO:
        return silhouette  # one tone
    middle = (low + high) / 2
    spread = max(1e-3, (high - low) / 8)
    best: np.ndarray | None = None
    for share in (np.clip((middle - luminance) / spread + 0.5, 0, 1), np.clip((luminance - middle) / spread + 0.5,
                                                                          0, 1)):
        kept = (share > 0.5) & opaque
        if _spans(kept, opaque) and 0.2 < kept[opaque].mean() < 0.95 and \
                (best is None or np.count_nonzero(kept) > np.count_nonzero(best > 0.5)):
            best = share
    if best is None:
        return silhouette
    return Image.fromarray(np.clip(np.rint(alpha * best), 0, 255).astype(np.uint8), "L")


KNOCKOUT_TONE_RATIO = 1.5  # a logo whose tones differ less than this is one tone


def _spans(kept: np.ndarray, opaque: np.ndarray) -> bool:
    """Whether the kept pixels reach (nearly) every side of the logo's footprint."""
    if not kept.any():
        return False
    rows, cols = np.nonzero(kept)
    all_rows, all_cols = np.nonzero(opaque)
    return bool((rows.max() - rows.min()) >= 0.9 * (all_rows.max() - all_rows.min()) and
                (cols.max() - cols.min()) >= 0.9 * (all_cols.max() - all_cols.min()))
