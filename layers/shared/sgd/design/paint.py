"""Painting a design: the canvas, the layout's surfaces, the picture or the brand graphic, accent shapes, then the
copy in the colour that reaches its contrast on what is under it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from sgd.design.color import contrast_ratio, parse_hex
from sgd.design.color_roles import ColorRoles, text_threshold
from sgd.design.colorimetry import nearest_palette_distance, srgb_to_lab
from sgd.design.copy_fit import Faces, Placed, Stack
from sgd.design.geometry import Box, Shape, Skeleton
from sgd.design.graphics import MIN_INK_CONTRAST, draw_graphic, graphic_colors, style_for
from sgd.design.imagery import ImageryTreatment, duotone, map_to_palette, smart_fit
from sgd.design.personality import ButtonShape, DesignStyle
from sgd.design.typeset import Align

# (box, kind, colour or None for imagery, name), in paint order; index 0 is the canvas background.
Painted = list[tuple[Box, str, str | None, str]]


def paint_background(skeleton: Skeleton, colors: ColorRoles, imagery: Image.Image | None,
                     treatment: ImageryTreatment | None, decor: Sequence[Shape], keep_out: Box | None,
                     seed: int, style: DesignStyle | None = None) -> tuple[Image.Image, Painted]:
    """The canvas, surfaces, the imagery (re-toned in palette colours under the "palette" treatment) or (without
    it) the brand graphic in the media area, then the accent shapes. The media area may be a rectangle, a circle or
    a polygon: the picture or graphic is cut to its shape. The graphic keeps out of the logo's clear space
    (`keep_out`) and takes its style and density from the brand's `style`."""
    style = style or DesignStyle.neutral()
    canvas = skeleton.canvas
    image = Image.new("RGB", (canvas.w, canvas.h), parse_hex(colors.background))
    draw = ImageDraw.Draw(image)
    painted: Painted = [(canvas, "rect", colors.background, "background")]
    roles = {"media": colors.media, "border": colors.border, "background": colors.background,
             "ground": colors.ground or colors.background,
             "accent": colors.accent}
    for shape in skeleton.surfaces:
        _fill(draw, shape.box, shape.kind, roles[shape.paint], shape.points)
        painted.append((shape.box, shape.kind, roles[shape.paint], shape.name))
    media = skeleton.media.intersection(canvas) if skeleton.media is not None else None
    graphic_style = style_for(skeleton.template, seed, style.graphic_styles, style.graphic_choices)
    if imagery is not None and media is not None:
        picture = smart_fit(imagery, (media.w, media.h))
        if treatment == "palette":
            picture = map_to_palette(picture, colors.palette)
        elif treatment == "duotone":
            picture = duotone(picture, colors.palette)
        image.paste(picture, (media.x, media.y), _media_mask(skeleton, media))
        painted.append((media, skeleton.media_kind, None, "imagery"))
    elif media is not None:
        layer = image.copy() if skeleton.media_kind != "rect" else image
        inks = _graphic_inks(colors.media, colors)
        if set(inks[1:]) <= {colors.background}:
            # The canvas colour is the only ink: shapes that reach the area's edge would merge with the canvas,
            # so the graphic is drawn as rules inside the area.
            graphic_style = "lines"
        graphic = draw_graphic(layer, media, inks, graphic_style, seed, keep_out, density=style.graphic_density)
        if graphic is not None:
            if layer is not image:
                image.paste(layer, (0, 0), _media_mask(skeleton, canvas))
            # One entry per region and colour: the region holds that palette colour among others.
            painted.extend((region, "graphic", color, "graphic") for region in graphic.regions
                           for color in graphic.colors if color != colors.media)
    for shape in decor:
        _fill(draw, shape.box, shape.kind, roles[shape.paint], shape.points)
        painted.append((shape.box, shape.kind, roles[shape.paint], shape.name))
        if imagery is None and shape.name == "block" and skeleton.template == "hero":
            # The hero's side block carries the brand graphic: it is clear of the copy and of the logo already.
            color = roles[shape.paint]
            graphic = draw_graphic(image, shape.box, _graphic_inks(color, colors), graphic_style, seed,
                                   density=style.graphic_density)
            if graphic is not None:
                painted.extend((region, "graphic", ink, shape.name) for region in graphic.regions
                               for ink in graphic.colors if ink != color)
    return image, painted


def _media_mask(skeleton: Skeleton, frame: Box) -> Image.Image | None:
    """A bilevel mask (no blended edge: every pixel stays a palette colour) of the media shape over `frame`; None
    for a rectangle that fills it."""
    if skeleton.media_kind == "rect" or skeleton.media is None:
        return None
    mask = Image.new("1", (frame.w, frame.h), 0)
    draw = ImageDraw.Draw(mask)
    if skeleton.media_kind == "ellipse":
        media = skeleton.media
        draw.ellipse((media.x - frame.x, media.y - frame.y, media.right - 1 - frame.x, media.bottom - 1 - frame.y),
                     fill=1)
    else:
        draw.polygon([(x - frame.x, y - frame.y) for x, y in skeleton.media_points], fill=1)
    return mask


def _graphic_inks(base: str, colors: ColorRoles) -> tuple[str, ...]:
    """The graphic's colours on `base`: the colours the usage rules let it use (colors.graphic_inks, or the palette)
    other than the canvas background (so the graphic stays distinct from the copy beside it), the background too
    only when nothing else is left."""
    inks = graphic_colors(base, colors.graphic_inks or colors.palette, last=(colors.background,))
    distinct = (base, *(color for color in inks[1:] if contrast_ratio(color, base) >= MIN_INK_CONTRAST))
    inks = distinct if len(distinct) > 1 else inks  # near-twins of the base read as an empty placeholder
    without_background = tuple(color for color in inks if color != colors.background or color == base)
    return without_background if len(without_background) > 1 else inks


def _fill(draw: ImageDraw.ImageDraw, box: Box, kind: str, color: str,
          points: Sequence[tuple[int, int]] = ()) -> None:
    if box.w <= 0 or box.h <= 0:
        return
    corners = (box.x, box.y, box.right - 1, box.bottom - 1)
    if kind == "ellipse":
        draw.ellipse(corners, fill=parse_hex(color))
    elif kind == "polygon" and points:
        draw.polygon(list(points), fill=parse_hex(color))
    else:
        draw.rectangle(corners, fill=parse_hex(color))


def draw_copy(image: Image.Image, stack: Stack, colors: ColorRoles, faces: Faces, painted: Painted,
              notes: list[str], button: ButtonShape = "rounded") -> list[dict[str, Any]]:
    draw = ImageDraw.Draw(image)
    surface = colors.background
    if stack.panel is not None and colors.panel is not None:
        surface = colors.panel
        _fill(draw, stack.panel, "rect", surface)
        painted.append((stack.panel, "rect", surface, "panel"))
    texts = [element for element in stack.elements if element.text is not None]
    inks = []  # (text colour, the colour under it) per text element
    for element in texts:
        under = colors.button if element.role == "cta" and colors.button is not None else surface
        inks.append((colors.text_on(under, element.text.size if element.text else 0, element.role)[0], under))
    masks = _text_masks(texts, stack.align, inks, colors.palette, image.width * image.height)
    text_boxes: list[dict[str, Any]] = []
    for element in stack.elements:
        if element.text is None:  # the kicker rule
            _fill(draw, element.box, "rect", colors.accent)
            painted.append((element.box, "rect", colors.accent, element.role))
            continue
        under = surface
        if element.role == "cta" and colors.button is not None:
            under = colors.button
            box = element.box
            radius = {"square": 0, "rounded": max(1, min(box.h // 2, round(0.3 * element.text.size))),
                      "pill": box.h // 2}[button]
            draw.rounded_rectangle((box.x, box.y, box.right - 1, box.bottom - 1), radius=radius,
                                   fill=parse_hex(under))
            painted.append((box, "rect", under, "button"))
        color, ratio = colors.text_on(under, element.text.size, element.role)
        threshold = text_threshold(element.text.size, element.role)
        if ratio < threshold:
            notes.append(f"no palette pair reaches {threshold:g}:1; used the best pair ({_floor2(ratio):.2f}:1)")
        mask = masks[texts.index(element)]
        image.paste(parse_hex(color), (element.box.x + element.padding[0], element.box.y + element.padding[1]),
                    mask)
        text_boxes.append({
            "role": element.role, "text": element.text.text, "box": element.box.as_list(),
            "font": faces.families[element.role], "weight": faces.weights.get(element.role, "regular"),
            "size_px": element.text.size, "color": color,
            "background": under, "contrast_ratio": _floor2(ratio), "lines": list(element.text.lines),
        })
    return text_boxes


def _text_mask(element: Placed, align: Align, antialias: bool) -> Image.Image:
    """The coverage mask of an element's text, exactly the size of its set block (nothing can spill out). Without
    anti-aliasing, the anti-aliased coverage thresholded at half: the same outlines where the text was measured.
    (FreeType's monochrome mode hints the glyphs, and their hinted advances ran a 24 px line "the long run" 4 px
    past its measured width: the block's edge cut the last letter's stem off, and it read "the long rur".)"""
    assert element.text is not None
    mask = Image.new("L", (element.text.width, element.text.height), 0)
    element.text.draw(ImageDraw.Draw(mask), 0, 0, (255,), align, antialias=True)
    return mask if antialias else mask.point([0] * 128 + [255] * 128)


def _text_masks(texts: Sequence[Placed], align: Align, inks: Sequence[tuple[str, str]], palette: Sequence[str],
                canvas_area: int) -> list[Image.Image]:
    """The coverage masks of the copy, anti-aliased: hinted monochrome glyphs turn 9-15 px type jagged (OCR
    misread a word in a third of the small-banner elements so set, none anti-aliased). A blended edge pixel mixes
    two palette colours and is off the palette when the mix is far from both; while such pixels would exceed
    OFF_PALETTE_BUDGET of the canvas, the largest type (which needs smoothing least) is set monochrome instead."""
    masks = [_text_mask(element, align, antialias=True) for element in texts]
    histograms = [mask.histogram() for mask in masks]
    budget = OFF_PALETTE_BUDGET * canvas_area
    if sum(sum(histogram[1:255]) for histogram in histograms) <= budget:
        return masks
    off = [_off_palette_pixels(histogram, ink, under, palette) for histogram, (ink, under) in
           zip(histograms, inks, strict=True)]
    total = sum(off)
    for index in sorted(range(len(texts)), key=lambda index: -_size(texts[index])):
        if total <= budget:
            break
        masks[index] = _text_mask(texts[index], align, antialias=False)
        total -= off[index]
    return masks


OFF_PALETTE_BUDGET = 0.04  # of the canvas: blended text edge pixels off the palette (beyond OFF_PALETTE_DELTA_E)
OFF_PALETTE_DELTA_E = 3.0  # CIEDE2000 from the nearest palette colour beyond which a blend is a colour of its own


def _off_palette_pixels(histogram: Sequence[int], ink: str, under: str, palette: Sequence[str]) -> int:
    """How many of a mask's pixels blend `ink` over `under` into a colour off the palette."""
    coverage = np.arange(256, dtype=np.float64)[:, np.newaxis] / 255
    blends = np.rint(np.array(parse_hex(ink)) * coverage + np.array(parse_hex(under)) * (1 - coverage))
    _index, distance = nearest_palette_distance(srgb_to_lab(blends), palette)
    return int(np.asarray(histogram, dtype=np.int64)[distance > OFF_PALETTE_DELTA_E].sum())


def _size(element: Placed) -> int:
    return element.text.size if element.text is not None else 0


def _floor2(ratio: float) -> float:
    """Two decimals, rounded down: WCAG forbids rounding a ratio up to a threshold."""
    return math.floor(ratio * 100 + 1e-9) / 100
