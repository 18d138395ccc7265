"""Generated brand pictures with a face and a line of text, and where they are: for the smart crop's "faces and text
kept whole" check (bench.design_quality) and its tests. No photograph is shipped: the face is drawn (hair, an oval
head, brows, eyes, nose and mouth, which is what a Haar face cascade looks for), the text is set in a bundled font,
on a photograph-like textured background with a second, brighter subject that competes for the crop."""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from sgd.design.geometry import Box, clearance

FONTS = Path(__file__).resolve().parents[2] / "layers" / "imaging" / "fonts"
FONT = FONTS / "DejaVuSans-Bold.ttf"
WORDS = ("OPEN DAILY", "FRESH BREAD", "SUMMER SALE", "NEW SEASON", "CITY RUN 2026", "FREE ENTRY")
PHRASES = ("Fresh bread daily", "Open until late", "summer sale", "Book your table", "Hello world", "City Run 2026",
           "Free entry", "new season", "Coffee & cake", "Tickets at the door", "shop now", "Quality you can taste")
SKINS = ((214, 170, 140), (180, 130, 95), (120, 80, 55), (235, 200, 175))


def covered_share(box: tuple[float, float, float, float], truth: Box) -> float:
    """The share of `truth` inside `box` (x, y, w, h)."""
    x, y, w, h = box
    inside_w = max(0.0, min(x + w, truth.right) - max(x, truth.x))
    inside_h = max(0.0, min(y + h, truth.bottom) - max(y, truth.y))
    return inside_w * inside_h / max(1, truth.w * truth.h)


def textured_ground(rng: random.Random, seed: int, width: int, height: int) -> Image.Image:
    """A soft, slowly varying background with grain (no subject)."""
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.zeros((height, width, 3), dtype=np.float64)
    for channel in range(3):
        wave_x, wave_y = rng.uniform(180, 400), rng.uniform(200, 500)
        base[..., channel] = 120 + 40 * np.sin(xx / wave_x + channel) * np.cos(yy / wave_y)
    noise = np.random.default_rng(seed).normal(0, 6, (height, width, 3))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8), "RGB")


def draw_face(draw: ImageDraw.ImageDraw, x: float, y: float, size: float, skin: tuple[int, int, int]) -> Box:
    """A frontal face `size` px wide with its hair, top-left at (x, y); returns the head's box (hair included)."""
    s = size
    draw.ellipse((x - 0.08 * s, y - 0.1 * s, x + 1.08 * s, y + 0.75 * s), fill=(60, 40, 30))
    draw.ellipse((x, y, x + s, y + 1.3 * s), fill=skin)
    for eye in (0.3, 0.7):
        cx, cy = x + eye * s, y + 0.55 * s
        draw.rectangle((cx - 0.14 * s, cy - 0.14 * s, cx + 0.14 * s, cy - 0.1 * s), fill=(70, 50, 40))
        draw.ellipse((cx - 0.1 * s, cy - 0.04 * s, cx + 0.1 * s, cy + 0.05 * s), fill=(250, 250, 250))
        draw.ellipse((cx - 0.045 * s, cy - 0.045 * s, cx + 0.045 * s, cy + 0.045 * s), fill=(40, 30, 30))
    shade = (int(skin[0] * 0.85), int(skin[1] * 0.85), int(skin[2] * 0.85))
    draw.polygon([(x + 0.5 * s, y + 0.6 * s), (x + 0.44 * s, y + 0.85 * s), (x + 0.56 * s, y + 0.85 * s)], fill=shade)
    draw.ellipse((x + 0.35 * s, y + 0.98 * s, x + 0.65 * s, y + 1.06 * s), fill=(150, 60, 60))
    return Box(round(x - 0.08 * s), round(y - 0.1 * s), round(1.16 * s), round(1.4 * s))


def subject_photo(seed: int, width: int = 1600, height: int = 1000) -> tuple[bytes, Box]:
    """A photograph-like picture: the textured ground and one subject (a bright blob with light stripes) at a random
    place; returns the PNG and the subject's box."""
    rng = random.Random(seed)
    image = textured_ground(rng, seed, width, height)
    draw = ImageDraw.Draw(image)
    subject_w, subject_h = rng.randint(width // 7, width // 4), rng.randint(height // 6, height // 3)
    x, y = rng.randint(0, width - subject_w), rng.randint(0, height - subject_h)
    draw.ellipse((x, y, x + subject_w, y + subject_h), fill=(rng.randint(150, 255), rng.randint(0, 80), 40))
    for stripe in range(6):
        sx = x + subject_w * (stripe + 1) // 8
        draw.line((sx, y + subject_h // 5, sx, y + subject_h * 4 // 5), fill=(250, 240, 200), width=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue(), Box(x, y, subject_w, subject_h)


def text_photo(seed: int, width: int = 1600, height: int = 1000) -> tuple[Image.Image, Box]:
    """A picture with one line of mixed-case text in one of the bundled fonts (sans, serif or mono, regular or bold),
    on a sign plate or straight on the textured ground; returns the picture and the text's box."""
    rng = random.Random(seed)
    image = textured_ground(rng, seed, width, height)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(rng.choice(sorted(FONTS.glob("*.ttf")))),
                              max(12, round(rng.uniform(0.04, 0.09) * min(width, height))))
    words = rng.choice(PHRASES)
    left, top, right, bottom = draw.textbbox((0, 0), words, font=font)
    tx, ty = rng.uniform(0, width - (right - left) - 1), rng.uniform(0, height - (bottom - top) - 1)
    plate = rng.choice([None, (245, 240, 230), (30, 40, 60)])
    pad = round(0.3 * (bottom - top))
    if plate is not None:
        draw.rectangle((tx - pad, ty - pad, tx + right - left + pad, ty + bottom - top + pad), fill=plate)
    ink = (20, 20, 20) if plate == (245, 240, 230) else (250, 250, 250) if plate else \
        rng.choice([(250, 250, 250), (255, 230, 0), (15, 15, 15)])
    draw.text((tx - left, ty - top), words, font=font, fill=ink)
    return image, Box(round(tx), round(ty), round(right - left), round(bottom - top))


def face_and_text_photo(seed: int, width: int = 1600, height: int = 1000) -> tuple[bytes, Box, Box]:
    """A picture with one face and one line of text (on a sign plate or straight on the picture) at random places
    that do not overlap, and a bright striped blob elsewhere; returns the PNG, the face's box and the text's box."""
    rng = random.Random(seed)
    image = textured_ground(rng, seed, width, height)
    draw = ImageDraw.Draw(image)
    short = min(width, height)
    face_size = rng.uniform(0.14, 0.3) * short
    face = draw_face(draw, rng.uniform(0.1 * face_size, width - 1.1 * face_size),
                     rng.uniform(0.12 * face_size, height - 1.35 * face_size), face_size, rng.choice(SKINS))
    font = ImageFont.truetype(str(FONT), max(12, round(rng.uniform(0.045, 0.09) * short)))
    words = rng.choice(WORDS)
    text_box = face
    left, top, right, bottom = (round(value) for value in draw.textbbox((0, 0), words, font=font))
    for _attempt in range(200):
        tx, ty = rng.uniform(0, width - (right - left) - 1), rng.uniform(0, height - (bottom - top) - 1)
        text_box = Box(round(tx), round(ty), right - left, bottom - top)
        if clearance(text_box, face) >= round(0.1 * short):
            break
    plate = rng.choice([None, (245, 240, 230), (30, 40, 60)])
    pad = round(0.3 * text_box.h)
    if plate is not None:
        draw.rectangle((text_box.x - pad, text_box.y - pad, text_box.right + pad, text_box.bottom + pad), fill=plate)
    ink = (20, 20, 20) if plate == (245, 240, 230) else (250, 250, 250) if plate else \
        rng.choice([(250, 250, 250), (255, 230, 0), (15, 15, 15)])
    draw.text((text_box.x - left, text_box.y - top), words, font=font, fill=ink)
    # A competing subject: a bright striped blob where neither the face nor the text is.
    blob_w, blob_h = round(rng.uniform(0.12, 0.2) * width), round(rng.uniform(0.15, 0.3) * height)
    for _attempt in range(200):
        blob = Box(rng.randint(0, width - blob_w), rng.randint(0, height - blob_h), blob_w, blob_h)
        if clearance(blob, face) >= 10 and clearance(blob, text_box) >= 10:
            colour = (rng.randint(150, 255), rng.randint(0, 80), 40)
            draw.ellipse((blob.x, blob.y, blob.right, blob.bottom), fill=colour)
            for stripe in range(6):
                sx = blob.x + blob.w * (stripe + 1) // 8
                draw.line((sx, blob.y + blob.h // 5, sx, blob.y + blob.h * 4 // 5), fill=(250, 240, 200), width=4)
            break
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue(), face, text_box
