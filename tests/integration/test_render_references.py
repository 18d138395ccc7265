"""Render references by URL: a host that does not resolve is a 422, and fetched bytes pass the same admission as an
upload before the design engine decodes them (a pixel bomb never reaches Pillow's decoder)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from sgd.errors import ValidationFailed
from sgd.render.references import _admitted_image

from bench.support.images import png_header_only
from tests.integration.test_render_route import new_project, render_body

pytestmark = pytest.mark.integration


def test_a_reference_on_a_host_that_does_not_resolve_is_a_422(api: Any) -> None:
    edit = {"task": "edit", "instruction": "Put our logo on a calm background",
            "references": ["https://nonexistent-host.invalid/photo.png"]}
    response = api.request("POST", "/render", render_body(new_project(), prompts=edit))
    assert response.status == 422, response.body
    assert response.json()["error"]["code"] == "reference_unreachable"
    assert response.json()["error"]["details"]["field"] == "body.prompts.references.0"


def test_a_fetched_pixel_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(ValidationFailed) as refused:
        _admitted_image(0, "https://cdn.example/huge.png", png_header_only(50_000, 50_000))
    assert refused.value.code == "reference_not_usable"
    assert refused.value.details["code"] == "too_many_pixels"


def test_a_fetched_image_is_re_encoded_without_metadata() -> None:
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    Image.new("RGB", (64, 48), "#0B3D91").save(buffer, "JPEG", exif=exif.tobytes())
    data, mime = _admitted_image(0, "https://cdn.example/photo.jpg", buffer.getvalue())
    assert mime == "image/jpeg"
    assert b"SecretCam" not in data
    assert Image.open(io.BytesIO(data)).size == (64, 48)
