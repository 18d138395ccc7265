"""Extraction: PDFs of several layouts, colour notations, statements, images, fonts, text and HTML."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sgd.design.color import to_hex
from sgd.errors import ValidationFailed
from sgd.ingest.admission import AdmittedFile
from sgd.ingest.color_notations import find_notations, notation_hex
from sgd.ingest.color_specs import merge_drafts, parse_color_specs
from sgd.ingest.extract import extract
from sgd.ingest.extract_font import clean_font_name
from sgd.ingest.text_lines import lines_from_text

from bench.support.pdfs import LAYOUTS

ROOT = Path(__file__).resolve().parents[2]
KITS = sorted(path for path in (ROOT / "examples" / "brands").iterdir() if (path / "truth.json").is_file())
DOCUMENT_KEYS = {"kind", "source", "text", "pages", "fonts", "colors", "swatches", "palette", "logo", "font",
                 "statements"}




def pdf(data: bytes, source: str = "guidelines.pdf") -> dict:
    return extract(AdmittedFile("pdf", "application/pdf", "pdf", data), source=source).document


def text_document(text: str, mime: str = "text/plain", extension: str = "txt") -> dict:
    return extract(AdmittedFile("text", mime, extension, text.encode()), source=f"brand.{extension}").document


def by_role(document: dict, role: str) -> list[str]:
    return [color["hex"] for color in document["colors"] if color["role"] == role]


# --- the example kits -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=KITS, ids=lambda path: path.name)
def kit(request: pytest.FixtureRequest) -> tuple[dict, dict]:
    import json

    return pdf((request.param / "guidelines.pdf").read_bytes()), json.loads((request.param / "truth.json").read_text())


def test_example_kit_colours_roles_and_fonts(kit: tuple[dict, dict]) -> None:
    document, truth = kit
    assert set(document) == DOCUMENT_KEYS
    assert document["kind"] == "pdf"
    assert len(document["pages"]) == 5
    assert [c["hex"] for c in document["colors"] if c["role"] == "declared" and c["source"] == "text"] \
        == truth["palette_hex"]
    assert by_role(document, "forbidden") == truth["forbidden_hex"]
    assert "#222222" in by_role(document, "incidental")  # the document's own body-text colour
    assert set(truth["fonts"]) <= set(document["fonts"])
    assert "Helvetica" not in document["fonts"]  # the PDF writer's base-14 label font
    for color in document["colors"]:
        if color["source"] == "text" and color["role"] == "declared":
            assert {"hex", "rgb", "cmyk"} <= set(color["notations"])
            assert color["name"]
            assert color["page"] == 3
    statements = document["statements"]
    assert statements["dos"] == truth["voice"]["dos"]
    assert statements["donts"] == truth["voice"]["donts"]
    assert any(truth["voice"]["tone"] in statement for statement in statements["tone"])
    assert any(f"{truth['logo_safe_zone_pct']}%" in statement for statement in statements["clear_space"])
    drawn = {swatch["hex"] for swatch in document["swatches"]}
    assert set(truth["palette_hex"]) <= drawn
    assert all(0 < swatch["area_pct"] < 10 for swatch in document["swatches"])


# --- generated layouts ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def layouts() -> dict[str, tuple[dict, dict]]:
    return {name: (pdf(kit.pdf, f"{name}.pdf"), kit.truth) for name, build in LAYOUTS.items() for kit in [build()]}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_generated_layout_colours(layouts: dict[str, tuple[dict, dict]], name: str) -> None:
    document, truth = layouts[name]
    assert by_role(document, "declared") == truth["palette_hex"]
    assert by_role(document, "forbidden") == truth["forbidden_hex"]
    assert "#222222" in by_role(document, "incidental")


def test_rgb_table_without_hex_reads_r_g_b_columns(layouts: dict[str, tuple[dict, dict]]) -> None:
    document, _ = layouts["rgb_table"]
    navy = document["colors"][0]
    assert navy["name"] == "Harbour Navy"
    assert navy["notations"] == {"rgb": "rgb(18, 52, 86)"}
    assert "#F0F0F0" in by_role(document, "incidental")  # the decorative band and the table's header shading
    assert document["fonts"] == ["Liberation Serif"]


def test_prose_colours_keep_names_and_notations(layouts: dict[str, tuple[dict, dict]]) -> None:
    document, _ = layouts["prose_only"]
    names = {color["hex"]: color["name"] for color in document["colors"] if color["source"] == "text"}
    assert names == {"#5C2D91": "Lumen Violet", "#FF6F61": "Signal Coral", "#88FFDD": "Mint", "#F4F1EA": "Chalk",
                     "#000000": None}
    black = next(color for color in document["colors"] if color["hex"] == "#000000")
    assert black["context"].startswith("Never use pure black")
    statements = document["statements"]
    assert statements["dos"] == ["Always credit the artist", "Always write numbers as digits"]
    assert statements["typography"] == ["Headlines: DejaVu Serif.", "Body copy: DejaVu Sans."]


def test_cmyk_and_pantone_merge_into_the_hex_row(layouts: dict[str, tuple[dict, dict]]) -> None:
    document, _ = layouts["cmyk_pantone"]
    forest = document["colors"][0]
    assert forest["notations"] == {"hex": "#1B4D3E", "cmyk": "cmyk(65, 0, 20, 70)", "pantone": "Pantone 3435 C"}
    neon = next(color for color in document["colors"] if color["hex"] == "#39FF14")
    assert neon["role"] == "forbidden"
    assert neon["name"] == "Neon Green"
    assert neon["page"] == 2


def test_labelled_swatch_without_text_value_is_a_colour(layouts: dict[str, tuple[dict, dict]]) -> None:
    document, _ = layouts["swatch_labels"]
    dusk = next(color for color in document["colors"] if color["hex"] == "#1D3557")
    assert dusk == {"hex": "#1D3557", "name": "Dusk", "notations": {"hex": "#1D3557"}, "context": "Dusk",
                    "page": 1, "role": "declared", "source": "swatch"}
    bar = next(color for color in document["colors"] if color["hex"] == "#C8C8C8")
    assert bar["role"] == "incidental"  # a thin decorative bar is no swatch, whatever text sits near it
    assert "#C8C8C8" not in {swatch["hex"] for swatch in document["swatches"]}


def test_five_page_pdf_extracts_every_page_the_same_every_time() -> None:
    data = LAYOUTS["rgb_table"]().pdf
    document = pdf(data)
    assert len(document["pages"]) == 5
    assert pdf(data) == document  # (how long it takes, ≤ 300 ms: bench/timing_budgets.py)


def test_unreadable_pdf_is_a_client_error() -> None:
    with pytest.raises(ValidationFailed) as raised:
        pdf(b"%PDF-1.7\n this is not a pdf body")
    assert raised.value.status_code == 422
    assert "guidelines.pdf" in raised.value.message


# --- notations --------------------------------------------------------------------------------------------------

NOTATION_FORMATS = [
    "#{hex}", "#{hex_lower}", "HEX {hex_bare}", "Hex: {hex_bare}", "rgb({r}, {g}, {b})", "rgb({r} {g} {b})",
    "RGB {r} {g} {b}", "RGB: {r}/{g}/{b}", "RGB {r}, {g}, {b}", "R {r} G {g} B {b}", "R:{r} G:{g} B:{b}",
    "R{r} G{g} B{b}",
]


@settings(max_examples=60, deadline=None)
@given(rgb=st.tuples(*[st.integers(0, 255)] * 3), template=st.sampled_from(NOTATION_FORMATS))
def test_any_rgb_in_any_notation_round_trips_to_its_hex(rgb: tuple[int, int, int], template: str) -> None:
    expected = to_hex(rgb)
    written = template.format(hex=expected[1:], hex_lower=expected[1:].lower(), hex_bare=expected[1:],
                              r=rgb[0], g=rgb[1], b=rgb[2])
    notations = find_notations(f"Our colour Ocean is {written} on screens.")
    assert len(notations) == 1
    assert notation_hex(notations[0]) == expected


@settings(max_examples=30, deadline=None)
@given(rgb=st.tuples(*[st.integers(0, 255)] * 3))
def test_one_row_of_hex_rgb_and_cmyk_is_one_colour(rgb: tuple[int, int, int]) -> None:
    hex_value = to_hex(rgb)
    lines = lines_from_text(f"Name\tHEX\tRGB\tCMYK\nOcean\t{hex_value}\t{rgb[0]}, {rgb[1]}, {rgb[2]}\t10/20/30/40\n"
                            f"Second line: Ocean again is rgb({rgb[0]}, {rgb[1]}, {rgb[2]}).")
    colors = merge_drafts(parse_color_specs(lines))
    assert len(colors) == 1
    assert colors[0]["hex"] == hex_value
    assert set(colors[0]["notations"]) == {"hex", "rgb", "cmyk"}


def test_three_digit_hex_and_bare_hex_rules() -> None:
    assert [notation_hex(n) for n in find_notations("Mint #8FD, code 123456, word FACADE, HEX ABC")] == [
        "#88FFDD", "#AABBCC"]


def test_cmyk_alone_converts_and_pantone_alone_is_no_colour() -> None:
    colors = merge_drafts(parse_color_specs(lines_from_text("Ink: CMYK 0/0/0/100\n\nSpot: Pantone 186 C only")))
    assert [(color["hex"], color["notations"]) for color in colors] == [("#000000", {"cmyk": "cmyk(0, 0, 0, 100)"})]


def test_negative_passage_marks_following_colours_forbidden_until_a_positive_heading() -> None:
    text = ("Colours to avoid:\nNeon\t#39FF14\nMagenta\t#FF00FF\nPrimary colours\nOcean\t#0B3D91\n"
            "Use Sun #FFB81C for highlights, but never Rust #B7410E.")
    roles = {color["hex"]: color["role"] for color in merge_drafts(parse_color_specs(lines_from_text(text)))}
    assert roles == {"#39FF14": "forbidden", "#FF00FF": "forbidden", "#0B3D91": "declared", "#FFB81C": "declared",
                     "#B7410E": "forbidden"}


# --- statements, text and HTML ----------------------------------------------------------------------------------

def test_markdown_statements() -> None:
    document = text_document(
        "# Brand\n\n## Voice\nTone: warm, direct.\n\n## Do\n- Say it plainly\n- Use numbers\n\n## Don'ts\n"
        "* Shout\n\nTypeface: Source Sans 3 Bold. Body text is set in Merriweather.\n\n"
        "Leave clear space equal to the height of the M.\n\n| Name | HEX |\n|---|---|\n| Teal | 008080 |\n",
        mime="text/markdown", extension="md")
    statements = document["statements"]
    assert statements["tone"] == ["Tone: warm, direct."]
    assert statements["dos"] == ["Say it plainly", "Use numbers"]
    assert statements["donts"] == ["Shout"]
    assert statements["typography"] == ["Typeface: Source Sans 3 Bold.", "Body text is set in Merriweather."]
    assert statements["clear_space"] == ["Leave clear space equal to the height of the M."]
    assert [(c["hex"], c["name"]) for c in document["colors"]] == [("#008080", "Teal")]


def test_html_strips_scripts_and_styles() -> None:
    html = ("<html><head><style>body { color: #123456 }</style><script>var c = '#ABCDEF';</script></head><body>"
            "<h1>Brand</h1><p>Our voice is <b>witty</b> and kind.</p><table><tr><th>Name</th><th>HEX</th></tr>"
            "<tr><td>Red</td><td>C8102E</td></tr></table><h2>Don'ts</h2><ul><li>Shout</li></ul></body></html>")
    document = text_document(html, mime="text/html", extension="html")
    assert "#123456" not in document["text"]
    assert "ABCDEF" not in document["text"]
    assert [(c["hex"], c["name"]) for c in document["colors"]] == [("#C8102E", "Red")]
    assert document["statements"]["tone"] == ["Our voice is witty and kind."]
    assert document["statements"]["donts"] == ["Shout"]


def test_never_and_always_sentences_only_without_lists() -> None:
    with_lists = text_document("Do\n- Smile\nNever shout at readers.")
    assert with_lists["statements"]["dos"] == ["Smile"]
    assert with_lists["statements"]["donts"] == []
    without = text_document("Never shout at readers. Always sign off warmly.")
    assert without["statements"]["donts"] == ["Never shout at readers"]
    assert without["statements"]["dos"] == ["Always sign off warmly"]


# --- font names -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("base_font", "family"), [
    ("ABCDEF+LiberationSans-Bold", "Liberation Sans"), ("NotoSerif-Regular", "Noto Serif"),
    ("OpenSans", "Open Sans"), ("Arial-BoldMT", "Arial"), ("TimesNewRomanPSMT", "Times New Roman"),
    ("IBMPlexSans-SemiBoldItalic", "IBM Plex Sans"),
    ("SourceSans3-Regular", "Source Sans 3"), ("Montserrat-ExtraBold", "Montserrat"), ("Arial,Bold", "Arial"),
    ("PlayfairDisplay-Italic", "Playfair Display"), ("Gotham-Rounded", "Gotham Rounded"), ("Helvetica", "Helvetica"),
    ("MPDFAA+RobotoBold", "Roboto"), ("OpenSans-SemiBold", "Open Sans"),
])
def test_font_name_cleaning(base_font: str, family: str) -> None:
    assert clean_font_name(base_font) == family


def test_pdf_fonts_come_from_the_embedded_name_table() -> None:
    document, _ = pdf(LAYOUTS["prose_only"]().pdf), None
    assert document["fonts"] == ["DejaVu Sans"]  # the name table says 'DejaVu', CamelCase splitting would not


# --- fonts and images -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("flavor", [None, "woff2"])
def test_font_file_family_style_and_loadable_bytes(flavor: str | None) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(ROOT / "layers" / "imaging" / "fonts" / "DejaVuSerif-Bold.ttf")
    subsetter = subset.Subsetter()  # a few glyphs keep WOFF2's Brotli compression fast
    subsetter.populate(text="Brand")
    subsetter.subset(font)
    font.flavor = flavor
    buffer = io.BytesIO()
    font.save(buffer)
    extraction = extract(AdmittedFile("font", "font/woff2" if flavor else "font/ttf", flavor or "ttf",
                                  buffer.getvalue()), source="serif.woff2")
    assert extraction.document["font"] == {"family": "DejaVu Serif", "style": "Bold", "full_name": "DejaVu Serif Bold"}
    assert extraction.document["fonts"] == ["DejaVu Serif"]
    assert extraction.font_file is not None
    assert extraction.font_file[:4] == b"\x00\x01\x00\x00"
    assert TTFont(io.BytesIO(extraction.font_file))["name"].getDebugName(1) == "DejaVu Serif"


def _logo_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (600, 400), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 299, 399), fill=(11, 61, 145, 255))  # half the canvas
    draw.ellipse((350, 100, 549, 299), fill=(255, 184, 28, 255))  # anti-aliasing-free flat circle
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_logo_palette_in_cielab_and_transparency() -> None:
    data = _logo_png()
    document = extract(AdmittedFile("logo", "image/png", "png", data), source="logo.png").document
    hexes = [entry["hex"] for entry in document["palette"]]
    assert hexes == ["#0B3D91", "#FFB81C"]
    assert document["palette"][0]["share"] > document["palette"][1]["share"] > 0.1
    assert abs(sum(entry["share"] for entry in document["palette"]) - 1) < 0.02
    assert document["logo"]["width"] == 600
    assert 0.3 < document["logo"]["transparent_share"] < 0.45
    again = extract(AdmittedFile("logo", "image/png", "png", data), source="logo.png").document
    assert again == document  # deterministic initialisation


@pytest.mark.parametrize("kit_path", KITS, ids=lambda path: path.name)
def test_example_logos(kit_path: Path) -> None:
    import json

    truth = json.loads((kit_path / "truth.json").read_text())
    logo = extract(AdmittedFile("logo", "image/png", "png", (kit_path / "logo.png").read_bytes()), source="logo.png")
    palette = [entry["hex"] for entry in logo.document["palette"]]
    assert palette == truth["palette_hex"][:2]  # the logo is drawn in the first two brand colours
    assert logo.document["logo"]["transparent_share"] > 0.2
