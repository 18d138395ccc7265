"""Guideline PDFs of layouts other than the example kits', written with fpdf2 (a development-only dependency),
each with the canon a reader should derive from it. The extractor must be general: none of these layouts is
special-cased. Used by the extraction and canon tests and by `python -m bench.canon_accuracy --generated`.

    layout = LAYOUTS["rgb_table"]()      # -> GeneratedKit(name, pdf: bytes, truth: dict)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

# The fonts the imaging layer bundles (DejaVu and Liberation, regular and bold): nothing from the machine's fonts.
FONTS = Path(__file__).resolve().parents[2] / "layers" / "imaging" / "fonts"
TEXT_GREY = (34, 34, 34)  # the documents' own body-text colour: incidental, never part of a palette


@dataclass(frozen=True)
class GeneratedKit:
    name: str
    pdf: bytes
    truth: dict[str, Any]


class _Doc(FPDF):
    def __init__(self, regular: Path, bold: Path, family: str) -> None:
        super().__init__(format="A4")
        self.set_auto_page_break(True, margin=15)
        self.add_font(family, "", str(regular))
        self.add_font(family, "B", str(bold))
        self.family_name = family

    def heading(self, text: str) -> None:
        self.set_font(self.family_name, "B", 20)
        self.set_text_color(*TEXT_GREY)
        self.cell(0, 12, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def para(self, text: str, size: float = 11) -> None:
        self.set_font(self.family_name, "", size)
        self.set_text_color(*TEXT_GREY)
        self.multi_cell(0, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def bullets(self, items: list[str], marker: str = "\u2022") -> None:
        self.set_font(self.family_name, "", 11)
        for item in items:
            self.set_x(self.l_margin + 6)
            self.multi_cell(0, 6, f"{marker} {item}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def subheading(self, text: str) -> None:
        self.set_font(self.family_name, "B", 13)
        self.cell(0, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def table_rows(self, rows: list[tuple[str, ...]], widths: tuple[float, ...]) -> None:
        self.set_font(self.family_name, "", 10)
        with self.table(col_widths=widths, text_align="LEFT") as table:
            for row in rows:
                cells = table.row()
                for value in row:
                    cells.cell(value)
        self.ln(4)

    def bytes(self) -> bytes:
        return bytes(self.output())


def rgb_table() -> GeneratedKit:
    """Five pages; an R/G/B table without hex; 'Typeface:' statements; '- ' bullets; 'at least 12 percent'."""
    doc = _Doc(FONTS / "LiberationSerif-Regular.ttf", FONTS / "LiberationSerif-Bold.ttf", "LiberationSerif")
    doc.add_page()
    doc.set_fill_color(240, 240, 240)  # a decorative grey band: an unlabelled fill, incidental
    doc.rect(0, 0, 210, 30, style="F")
    doc.set_y(40)
    doc.heading("Harbour & Co. brand book")
    doc.para("This book describes how the Harbour & Co. brand looks and sounds.")
    doc.add_page()
    doc.heading("Colour palette")
    doc.para("Our palette has three colours. Values are given for screens.")
    doc.table_rows([("Colour", "R", "G", "B"), ("Harbour Navy", "18", "52", "86"), ("Sea Glass", "126", "200", "180"),
                    ("Sand", "237", "224", "200")], (60, 25, 25, 25))
    doc.add_page()
    doc.heading("Typography")
    doc.para("Typeface: Liberation Serif")
    doc.para("Use it for headlines and for body copy alike.")
    doc.add_page()
    doc.heading("Voice")
    doc.para("Tone: calm, trustworthy, plain-spoken.")
    doc.subheading("Dos")
    doc.bullets(["Explain the benefit in one sentence", "Address the reader as you"], marker="-")
    doc.subheading("Don'ts")
    doc.bullets(["Use nautical puns", "Write in capitals for emphasis"], marker="-")
    doc.add_page()
    doc.heading("Logo")
    doc.para("Leave clear space of at least 12 percent of the logo's width on every side.")
    truth = {"palette_hex": ["#123456", "#7EC8B4", "#EDE0C8"], "forbidden_hex": [], "fonts": ["Liberation Serif"],
             "voice": {"tone": "calm, trustworthy, plain-spoken",
                       "dos": ["Explain the benefit in one sentence", "Address the reader as you"],
                       "donts": ["Use nautical puns", "Write in capitals for emphasis"]},
             "logo_safe_zone_pct": 12}
    return GeneratedKit("rgb_table", doc.bytes(), truth)


def prose_only() -> GeneratedKit:
    """Colours only in prose, in several notations (RGB: a/b/c, R G B, 3-digit hex, a labelled hex without '#');
    Never/Always sentences instead of lists; clear space relative to the logo (no percentage)."""
    doc = _Doc(FONTS / "DejaVuSans.ttf", FONTS / "DejaVuSans-Bold.ttf", "DejaVuSans")
    doc.add_page()
    doc.heading("Lumen Studio")
    doc.para("Our primary colour is Lumen Violet, RGB: 92/45/145, and it appears on every cover. The secondary "
             "colour is Signal Coral, written R 255 G 111 B 97 in our design files. For accents we use Mint (#8FD) "
             "sparingly, and neutral surfaces use Chalk with HEX F4F1EA.")
    doc.para("Never use pure black (#000000) for text; use the dark grey of this document instead.")
    doc.para("Headlines: DejaVu Serif. Body copy: DejaVu Sans.")
    doc.para("Our voice is curious, generous and exact.")
    doc.para("Always credit the artist. Never promise what the product cannot do. Always write numbers as digits.")
    doc.para("Keep a clear space equal to the height of the letter L around the logo.")
    truth = {"palette_hex": ["#5C2D91", "#FF6F61", "#88FFDD", "#F4F1EA"], "forbidden_hex": ["#000000"],
             "fonts": ["DejaVu Serif", "DejaVu Sans"],
             "voice": {"tone": "curious, generous and exact",
                       "dos": ["Always credit the artist", "Always write numbers as digits"],
                       "donts": ["Never promise what the product cannot do"]},
             "logo_safe_zone_pct": 10}
    return GeneratedKit("prose_only", doc.bytes(), truth)


def cmyk_pantone() -> GeneratedKit:
    """Hex with CMYK and Pantone beside it in a table, and a separate 'Colour don'ts' page of forbidden colours."""
    doc = _Doc(FONTS / "DejaVuSans.ttf", FONTS / "DejaVuSans-Bold.ttf", "DejaVuSans")
    doc.add_page()
    doc.heading("1. Brand colours")
    doc.table_rows([("Name", "HEX", "CMYK", "Pantone"), ("Forest", "#1B4D3E", "C65 M0 Y20 K70", "Pantone 3435 C"),
                    ("Moss", "#8A9A5B", "C10 M0 Y41 K40", "Pantone 5777 C"),
                    ("Birch", "#F2EFE6", "C0 M1 Y5 K5", "Pantone 9224 C")], (50, 35, 50, 45))
    doc.heading("2. Typography")
    doc.para("Primary font DejaVu Sans, used for everything from headlines to captions.")
    doc.heading("3. Tone of voice")
    doc.para("Our tone of voice is grounded, warm and knowledgeable.")
    doc.subheading("Do")
    doc.bullets(["Name the species", "Give practical advice"])
    doc.subheading("Don't")
    doc.bullets(["Lecture the reader"])
    doc.add_page()
    doc.heading("4. Colour don'ts")
    doc.para("Never use these colours on brand materials:")
    doc.table_rows([("Name", "HEX", "CMYK"), ("Neon Green", "#39FF14", "C60 M0 Y100 K0"),
                    ("Hot Pink", "#FF1493", "C0 M92 Y42 K0")], (50, 35, 50))
    doc.heading("5. Logo")
    doc.para("The logo needs a clear space of 15% of its width.")
    truth = {"palette_hex": ["#1B4D3E", "#8A9A5B", "#F2EFE6"], "forbidden_hex": ["#39FF14", "#FF1493"],
             "fonts": ["DejaVu Sans"],
             "voice": {"tone": "grounded, warm and knowledgeable", "dos": ["Name the species", "Give practical advice"],
                       "donts": ["Lecture the reader"]},
             "logo_safe_zone_pct": 15}
    return GeneratedKit("cmyk_pantone", doc.bytes(), truth)


def swatch_labels() -> GeneratedKit:
    """Filled swatch rectangles labelled below by name and hex, one labelled by name only (its colour is the
    fill), a decorative unlabelled bar, and fonts known only from what the PDF embeds."""
    doc = _Doc(FONTS / "LiberationSans-Regular.ttf", FONTS / "LiberationSans-Bold.ttf", "LiberationSans")
    doc.add_page()
    doc.set_fill_color(200, 200, 200)
    doc.rect(10, 10, 190, 4, style="F")  # a rule-like decorative bar, unlabelled
    doc.set_y(20)
    doc.heading("Kite Mobility - colour swatches")
    swatches = [("Sky", (40, 120, 220), "#2878DC"), ("Kite Red", (230, 57, 70), "#E63946"),
                ("Cloud", (241, 250, 238), "#F1FAEE"), ("Dusk", (29, 53, 87), None)]
    for column, (name, rgb, hex_label) in enumerate(swatches):
        x = 15 + column * 47
        doc.set_fill_color(*rgb)
        doc.rect(x, 45, 40, 30, style="F")
        doc.set_text_color(*TEXT_GREY)
        doc.set_font("LiberationSans", "B", 11)
        doc.set_xy(x, 77)
        doc.cell(40, 6, name)
        if hex_label:
            doc.set_font("LiberationSans", "", 9)
            doc.set_xy(x, 83)
            doc.cell(40, 5, hex_label)
    doc.set_xy(15, 100)
    doc.para("Tone: bold, playful, clear.")
    doc.subheading("Do")
    doc.bullets(["Show the city from above"])
    doc.subheading("Don't")
    doc.bullets(["Crop the kite mark"])
    doc.para("Clear space around the logo: 6% of the shorter side.")
    truth = {"palette_hex": ["#2878DC", "#E63946", "#F1FAEE", "#1D3557"], "forbidden_hex": [],
             "fonts": ["Liberation Sans"],
             "voice": {"tone": "bold, playful, clear", "dos": ["Show the city from above"],
                       "donts": ["Crop the kite mark"]},
             "logo_safe_zone_pct": 6}
    return GeneratedKit("swatch_labels", doc.bytes(), truth)


def role_table() -> GeneratedKit:
    """A colour table with a role column and a usage column (no sentence names a role or a rule): roles, CTA-only,
    never-background, no-text-on and proportions are read from the cells; one colour has no role (inferred)."""
    doc = _Doc(FONTS / "LiberationSans-Regular.ttf", FONTS / "LiberationSans-Bold.ttf", "LiberationSans")
    doc.add_page()
    doc.heading("Tidewater Bank - visual identity")
    doc.subheading("Colour")
    doc.table_rows([("Colour", "HEX", "Role", "Usage"),
                    ("Deep Harbour", "#0A2342", "Primary", "About 30% of a layout"),
                    ("Paper", "#FFFFFF", "Background", "60%"),
                    ("Signal Teal", "#00A19A", "Accent", "Calls to action only"),
                    ("Coral", "#FF6B5B", "Secondary", "Never as a background"),
                    ("Mist", "#E9EEF3", "", "No text on it")], (45, 30, 35, 70))
    doc.heading("Typography")
    doc.para("Typeface: Liberation Sans")
    doc.heading("Voice")
    doc.para("Tone: calm, clear, reassuring.")
    doc.subheading("Don't")
    doc.bullets(["Shout", "Use jargon"])
    doc.para("The logo needs a clear space of 8% of its width.")
    doc.para("On screen, the logo is never smaller than 60 px wide.")
    truth = {"palette_hex": ["#0A2342", "#FFFFFF", "#00A19A", "#FF6B5B", "#E9EEF3"], "forbidden_hex": [],
             "fonts": ["Liberation Sans"],
             "voice": {"tone": "calm, clear, reassuring", "dos": [], "donts": ["Shout", "Use jargon"]},
             "logo_safe_zone_pct": 8, "logo_min_width_px": 60.0,
             "color_roles": {"#0A2342": "primary", "#FFFFFF": "background", "#00A19A": "accent",
                             "#FF6B5B": "secondary"},
             "usage_rules": [{"kind": "proportion", "hex": "#0A2342", "min_pct": 30.0, "max_pct": 30.0},
                             {"kind": "proportion", "hex": "#FFFFFF", "min_pct": 60.0, "max_pct": 60.0},
                             {"kind": "cta_only", "hex": "#00A19A"},
                             {"kind": "never_background", "hex": "#FF6B5B"},
                             {"kind": "no_text_on", "hex": "#E9EEF3"}]}
    return GeneratedKit("role_table", doc.bytes(), truth)


LAYOUTS: dict[str, Callable[[], GeneratedKit]] = {
    "rgb_table": rgb_table, "prose_only": prose_only, "cmyk_pantone": cmyk_pantone, "swatch_labels": swatch_labels,
    "role_table": role_table,
}
