"""Admitting an image (PNG, JPEG, WebP). Dimensions are read from the container headers before any pixel is
decoded, so a decompression bomb is refused without being expanded. The image is promoted re-encoded from its
pixels only: EXIF (after applying its orientation), XMP, ICC (pixels converted to sRGB first), text chunks and
comments are gone; an animated PNG/WebP keeps its first frame (brand material is a still). An image whose alpha
channel is really used is a logo. Pillow is imported only when an image is re-encoded."""

from __future__ import annotations

import io
import re
import struct
import warnings
from dataclasses import dataclass, field
from typing import Any

from sgd.ingest.admitted import OUTPUT, AdmissionRejected, AdmittedFile, Kind
from sgd.ingest.polyglot import refuse_polyglot

# A logo is an image whose alpha channel is really used: at least this share of nearly transparent pixels.
LOGO_TRANSPARENT_SHARE = 0.05
TRANSPARENT_ALPHA_MAX = 25  # alpha <= ~10 %: background, not an anti-aliased edge
JPEG_QUALITY = 95
WEBP_QUALITY = 95


@dataclass
class _ImageLayout:
    """What the container says before any pixel is decoded."""

    width: int | None = None
    height: int | None = None
    metadata: list[bytes] = field(default_factory=list)  # non-pixel chunks/segments, scanned for other formats
    trailing: bytes = b""  # bytes after the image's end marker
    lossless: bool = False
    problem: str | None = None  # a structural error; reported after the cheaper dimension check


def admit_image(data: bytes, detected: str, max_pixels: int) -> AdmittedFile:
    layout = {"png": _png_layout, "jpeg": _jpeg_layout, "webp": _webp_layout}[detected](data)
    name = detected.upper()
    if layout.width and layout.height and layout.width * layout.height > max_pixels:
        raise AdmissionRejected("too_many_pixels", f"the {name} image is {layout.width}x{layout.height} "
                                                   f"({layout.width * layout.height:,} pixels); the limit is "
                                                   f"{max_pixels:,}: scale it down")
    if layout.problem or not (layout.width and layout.height):
        raise AdmissionRejected("corrupt", f"the {name} file is damaged ({layout.problem or 'no image dimensions'}): "
                                           "re-export it")
    refuse_polyglot(data, detected, layout.metadata, layout.trailing)
    return _reencode(data, detected, layout, max_pixels)


def _png_layout(data: bytes) -> _ImageLayout:
    layout = _ImageLayout(lossless=True)
    if data[12:16] != b"IHDR" or len(data) < 33:
        layout.problem = "the header chunk is missing"
        return layout
    layout.width, layout.height = struct.unpack(">II", data[16:24])
    position = 8
    while position + 12 <= len(data):
        length, chunk_type = struct.unpack(">I4s", data[position:position + 8])
        end = position + 12 + length
        if end > len(data):
            layout.problem = f"chunk {chunk_type!r} is truncated"
            return layout
        if chunk_type == b"IEND":
            layout.trailing = data[end:]
            return layout
        if chunk_type not in (b"IDAT", b"fdAT", b"IHDR"):
            layout.metadata.append(data[position + 8:end - 4])
        position = end
    layout.problem = "the file ends before its IEND chunk"
    return layout


_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_JPEG_NEXT_MARKER = re.compile(rb"\xff+([^\x00\xd0-\xd7\xff])")  # skips stuffed bytes, restarts and fill bytes


def _jpeg_layout(data: bytes) -> _ImageLayout:
    layout = _ImageLayout()
    position = 2
    while position < len(data):
        if data[position] != 0xFF:
            layout.problem = f"expected a marker at byte {position:,}"
            return layout
        while position < len(data) and data[position] == 0xFF:
            position += 1
        if position >= len(data):
            break
        marker = data[position]
        position += 1
        if marker == 0xD9:  # end of image
            layout.trailing = data[position:]
            return layout
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        if position + 2 > len(data):
            break
        length = struct.unpack(">H", data[position:position + 2])[0]
        segment = data[position + 2:position + length]
        if length < 2 or position + length > len(data):
            layout.problem = f"segment 0x{marker:02X} is truncated"
            return layout
        if marker in _JPEG_SOF and len(segment) >= 5:
            layout.height, layout.width = struct.unpack(">HH", segment[1:5])
        elif 0xE0 <= marker <= 0xEF or marker == 0xFE:
            layout.metadata.append(segment)
        position += length
        if marker == 0xDA:  # start of scan: entropy-coded data runs to the next real marker
            match = _JPEG_NEXT_MARKER.search(data, position)
            if match is None:
                break
            position = match.start(1) - 1
    # No end-of-image marker: Pillow decides below whether the scan data is complete.
    return layout


def _webp_layout(data: bytes) -> _ImageLayout:
    layout = _ImageLayout()
    riff_end = 8 + struct.unpack("<I", data[4:8])[0]
    if riff_end > len(data) or riff_end < 12:
        layout.problem = "the RIFF size does not match the file"
        return layout
    position = 12
    has_lossy = False
    while position + 8 <= riff_end:
        fourcc, size = struct.unpack("<4sI", data[position:position + 8])
        payload = data[position + 8:position + 8 + size]
        if position + 8 + size > riff_end:
            layout.problem = f"chunk {fourcc!r} is truncated"
            return layout
        if fourcc == b"VP8X" and len(payload) >= 10 and layout.width is None:
            layout.width = 1 + int.from_bytes(payload[4:7], "little")
            layout.height = 1 + int.from_bytes(payload[7:10], "little")
        elif fourcc == b"VP8 " and len(payload) >= 10:
            has_lossy = True
            if layout.width is None:
                layout.width, layout.height = (value & 0x3FFF for value in struct.unpack("<HH", payload[6:10]))
        elif fourcc == b"VP8L" and len(payload) >= 5:
            layout.lossless = True
            if layout.width is None:
                bits = int.from_bytes(payload[1:5], "little")
                layout.width, layout.height = 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
        elif fourcc == b"ANMF":
            has_lossy |= b"VP8 " in payload[16:40]
            layout.lossless |= b"VP8L" in payload[16:40]
        elif fourcc not in (b"ALPH", b"ANIM"):
            layout.metadata.append(payload)
        position += 8 + size + (size & 1)
    layout.lossless = layout.lossless and not has_lossy
    layout.trailing = data[riff_end:]
    return layout


def _reencode(data: bytes, detected: str, layout: _ImageLayout, max_pixels: int) -> AdmittedFile:
    from PIL import Image, ImageOps

    pillow_format = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[detected]
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[pillow_format]) as probe:
                probe.verify()
            with Image.open(io.BytesIO(data), formats=[pillow_format]) as opened:
                if opened.width * opened.height > max_pixels:
                    raise AdmissionRejected("too_many_pixels", f"the image is {opened.width}x{opened.height}; the "
                                                               f"limit is {max_pixels:,} pixels: scale it down")
                opened.seek(0)  # animated images keep their first frame
                opened.load()
                sampling = _jpeg_sampling(opened) if detected == "jpeg" else -1
                image = ImageOps.exif_transpose(opened)
                icc_profile = opened.info.get("icc_profile")
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise AdmissionRejected("too_many_pixels", "the image expands to more pixels than allowed (a "
                                                       "decompression bomb): scale it down") from error
        except ValueError as error:
            if "decompressed" in str(error).lower():  # Pillow's cap on compressed text/ICC chunks
                raise AdmissionRejected("corrupt", "the image carries an oversized compressed metadata chunk: "
                                                   "re-export it without metadata") from error
            raise
    image = _to_srgb(image, icc_profile)
    image = _normalise_mode(image, detected)
    clean = Image.frombytes(image.mode, image.size, image.tobytes())  # pixels only: no info, no metadata
    output = io.BytesIO()
    if detected == "png":
        clean.save(output, "PNG", optimize=False, compress_level=6)
    elif detected == "jpeg":
        options: dict[str, Any] = {"quality": JPEG_QUALITY}
        if sampling >= 0:
            options["subsampling"] = sampling
        clean.save(output, "JPEG", **options)
    else:
        clean.save(output, "WEBP", **({"lossless": True} if layout.lossless else {"quality": WEBP_QUALITY}))
    kind: Kind = "logo" if detected != "jpeg" and _alpha_is_used(clean) else "image"
    _, mime, extension = OUTPUT[detected]
    return AdmittedFile(kind=kind, mime=mime, extension=extension, data=output.getvalue(),
                        width=clean.width, height=clean.height)


def _jpeg_sampling(image: Any) -> int:
    from PIL import JpegImagePlugin

    try:
        return int(JpegImagePlugin.get_sampling(image))
    except (AttributeError, TypeError, ValueError):
        return -1


def _to_srgb(image: Any, icc_profile: bytes | None) -> Any:
    """Converts pixels tagged with a non-sRGB profile to sRGB, so dropping the profile keeps the colours."""
    if not icc_profile or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if ImageCms.getProfileDescription(source).strip().lower().startswith("srgb"):
            return image
        target = ImageCms.createProfile("sRGB")
        if image.mode == "RGBA":
            alpha = image.getchannel("A")
            converted = ImageCms.profileToProfile(image.convert("RGB"), source, target, outputMode="RGB")
            assert converted is not None  # None only with inPlace=True
            converted.putalpha(alpha)
            return converted
        return ImageCms.profileToProfile(image, source, target, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # an unreadable or mismatched profile: keep the pixels as they are


def _normalise_mode(image: Any, detected: str) -> Any:
    """The pixel mode to write: alpha kept (palette transparency becomes real alpha), CMYK becomes RGB."""
    has_transparency = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if image.mode == "1":
        image = image.convert("L")
    if detected == "png":
        if image.mode in ("RGB", "RGBA", "L", "LA", "I;16", "I"):
            return image.convert("RGBA") if "transparency" in image.info else image
        return image.convert("RGBA" if has_transparency else "RGB")
    if detected == "jpeg":
        return image if image.mode in ("RGB", "L") else image.convert("RGB")
    return image.convert("RGBA" if has_transparency else "RGB")


def _alpha_is_used(image: Any) -> bool:
    if image.mode not in ("RGBA", "LA"):
        return False
    histogram = image.getchannel("A").histogram()
    transparent = sum(histogram[:TRANSPARENT_ALPHA_MAX + 1])
    return transparent >= LOGO_TRANSPARENT_SHARE * image.width * image.height
