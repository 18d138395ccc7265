"""Brand imagery through the real Lambda path: an upload says what it is for (`purpose`), an image marked as brand
imagery is indexed as such, and an offline `create` render fills its picture area with it (cropped, never
stretched); an upload of the same kind marked `example` stays out of the imagery."""

from __future__ import annotations

import io
import urllib.request
import uuid
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.conftest import ApiClient
from tests.integration.test_ingest_pipeline import wait_for_upload
from tests.integration.test_render_route import with_canon

pytestmark = pytest.mark.integration


def photo(colour: tuple[int, int, int]) -> bytes:
    """A 900x600 photograph-like picture: a textured ground and a subject in `colour`."""
    rng = np.random.default_rng(7)
    ground = np.clip(rng.normal(150, 25, (600, 900, 3)), 0, 255).astype(np.uint8)
    picture = Image.fromarray(ground, "RGB")
    ImageDraw.Draw(picture).ellipse((560, 180, 820, 440), fill=colour)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def upload_with_purpose(api: ApiClient, project: str, data: bytes, purpose: str | None) -> dict[str, Any]:
    import httpx

    body: dict[str, Any] = {"project_id": project, "filename": f"{purpose or 'plain'}.jpg",
                            "content_type": "image/jpeg", "size_bytes": len(data)}
    if purpose:
        body["purpose"] = purpose
    ticket = api.request("POST", "/uploads", body)
    assert ticket.status == 200, ticket.body
    sent = httpx.post(ticket.json()["url"], data=ticket.json()["fields"],
                      files={"file": (body["filename"], data, "image/jpeg")}, timeout=30)
    assert sent.status_code == 204, sent.text
    return wait_for_upload(api, project, ticket.json()["upload_id"])


def test_an_unknown_purpose_is_a_422_naming_the_field(api: ApiClient) -> None:
    response = api.request("POST", "/uploads", {"project_id": "purposes", "filename": "a.jpg",
                                                "content_type": "image/jpeg", "size_bytes": 10, "purpose": "art"})
    assert response.status == 422
    assert "purpose" in str(response.json()["error"]["details"])


def test_brand_imagery_fills_the_picture_area_of_an_offline_create_render(runtime: Any, api: ApiClient) -> None:
    project = f"img-{uuid.uuid4().hex[:10]}"
    with_canon(runtime, "acme", project, {"palette_hex": ["#0B3D2E", "#F2E8CF", "#E07A5F"], "forbidden_hex": [],
                                       "fonts": ["Inter"], "voice": {"tone": "plain"}, "logo_safe_zone_pct": 8})
    example = upload_with_purpose(api, project, photo((20, 20, 240)), "example")
    assert example["status"] == "indexed"
    assert example["purpose"] == "example"
    body = {"project_id": project, "prompts": {"task": "create", "instruction": 'Harvest post "Picked by hand"'},
            "outputs": {"count": 1, "format": "png", "dimensions": "1200x628"}}
    before = api.request("POST", "/render", body)
    assert before.status == 200, before.body
    assert before.json()["assets"][0]["layout"]["imagery_box"] is None  # an example is not imagery

    imagery = upload_with_purpose(api, project, photo((240, 30, 30)), None)  # an image: imagery by default
    assert imagery["status"] == "indexed"
    assert imagery["purpose"] == "imagery"
    body["prompts"]["instruction"] = 'Harvest post "Picked by hand, every one"'
    after = api.request("POST", "/render", body)
    assert after.status == 200, after.body
    asset = after.json()["assets"][0]
    box = asset["layout"]["imagery_box"]
    assert box is not None
    assert any("brand's picture" in note for note in after.json()["audit"]["notes"])
    with urllib.request.urlopen(asset["url"], timeout=10) as fetched:
        picture = np.asarray(Image.open(io.BytesIO(fetched.read())).convert("RGB"))
    x, y, w, h = box
    area = picture[y:y + h, x:x + w].reshape(-1, 3)
    _colours, counts = np.unique(area, axis=0, return_counts=True)
    if asset["layout"]["imagery_treatment"] == "palette":  # the critic asked for it: re-toned in palette colours
        assert sum(count >= 0.05 * len(area) for count in counts) >= 2  # the subject stands out from the ground
    else:
        red = (area[:, 0] > 200) & (area[:, 1] < 80) & (area[:, 2] < 80)
        assert red.mean() > 0.05  # the subject (the red disc) is in the crop


def test_an_eyebrow_a_legal_line_and_a_duotone_come_back_through_the_api(runtime: Any, api: ApiClient) -> None:
    project = f"img-{uuid.uuid4().hex[:10]}"
    with_canon(runtime, "acme", project, {"palette_hex": ["#111111", "#FAF7F2", "#C9B79C"], "forbidden_hex": [],
                                         "fonts": ["Inter"], "voice": {"tone": "minimal, quiet, refined"},
                                         "logo_safe_zone_pct": 8})
    assert upload_with_purpose(api, project, photo((200, 60, 40)), "imagery")["status"] == "indexed"
    response = api.request("POST", "/render", {
        "project_id": project, "auto_repair": False,
        "prompts": {"task": "create", "instruction": 'Eyebrow: "New season", headline "Quiet lines", '
                                                     'legal: "Terms apply."'},
        "outputs": {"count": 1, "format": "png", "dimensions": "1080x1350"}})
    assert response.status == 200, response.body
    layout = response.json()["assets"][0]["layout"]
    roles = [box["role"] for box in layout["text_boxes"]]
    assert roles[0] == "eyebrow"
    assert roles[-1] == "legal"
    assert layout["imagery_treatment"] == "duotone"
    assert "minimal" in layout["personality"]
