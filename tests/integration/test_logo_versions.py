"""Logo versions through the real Lambda path: a kit that uploads a dark logo (for light backgrounds) and a light
one (for dark backgrounds) gets both in its derived canon, each with the background it is made for and its
provenance; they are edited through PUT and checked by the guardrail schema; every render draws the version made for
the background under its logo, and its layout and audit say which."""

from __future__ import annotations

import io
import urllib.request
import uuid
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image, ImageDraw
from sgd.design.color import contrast_ratio

from tests.conftest import ROOT, ApiClient
from tests.integration.test_ingest_pipeline import ingest_path, wait_for_upload

pytestmark = pytest.mark.integration
KIT = ROOT / "examples" / "brands" / "northwind-coffee"
DARK_INK, LIGHT_INK = (0x3B, 0x23, 0x14), (0xF4, 0xED, 0xE4)


def logo_png(ink: tuple[int, int, int]) -> bytes:
    """A transparent word-mark logo in one ink: a ring and three bars."""
    logo = Image.new("RGBA", (480, 160), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.ellipse((8, 8, 152, 152), outline=ink, width=26)
    for index in range(3):
        draw.rectangle((190, 30 + index * 42, 470 - index * 70, 56 + index * 42), fill=ink)
    buffer = io.BytesIO()
    logo.save(buffer, format="PNG")
    return buffer.getvalue()


def upload_logo(api: ApiClient, project: str, name: str, data: bytes) -> dict[str, Any]:
    ticket = api.request("POST", "/uploads", {"project_id": project, "filename": name, "content_type": "image/png",
                                              "size_bytes": len(data), "purpose": "logo"})
    assert ticket.status == 200, ticket.body
    sent = httpx.post(ticket.json()["url"], data=ticket.json()["fields"], files={"file": (name, data, "image/png")},
                      timeout=30)
    assert sent.status_code == 204, sent.text
    status = wait_for_upload(api, project, ticket.json()["upload_id"])
    assert status["status"] == "indexed", status
    return status


def test_two_uploaded_logo_versions_are_derived_edited_and_drawn_by_background(api: ApiClient) -> None:
    project = f"logos-{uuid.uuid4().hex[:10]}"
    assert ingest_path(api, project, KIT / "guidelines.pdf", "application/pdf")["status"] == "indexed"
    dark = upload_logo(api, project, "logo-brown.png", logo_png(DARK_INK))
    light = upload_logo(api, project, "logo-reversed.png", logo_png(LIGHT_INK))

    derived = api.request("POST", "/canon/derive", {"project_id": project, "evidence_ids": []})
    assert derived.status == 200, derived.body
    canon = derived.json()["canon"]
    assert sorted(canon["logo_versions"], key=lambda v: v["use_on"]) == [
        {"asset_id": light["asset_id"], "use_on": "dark"}, {"asset_id": dark["asset_id"], "use_on": "light"}]
    cited = [entry for entry in derived.json()["provenance"] if entry["field"] == "logo_versions"]
    assert len(cited) == 2
    assert all(entry["evidence_ids"] and "3:1" in entry["note"] for entry in cited)

    seen: set[str] = set()
    for dimensions in ("1080x1080", "1200x628", "300x250", "728x90"):
        response = api.request("POST", "/render", {
            "project_id": project, "auto_repair": False,
            "prompts": {"task": "create", "instruction": 'Autumn roast "Slow mornings", CTA: Order now'},
            "outputs": {"count": 2, "format": "png", "dimensions": dimensions}})
        assert response.status == 200, response.body
        for asset in response.json()["assets"]:
            used = asset["layout"]["logo_version"]
            on_dark = contrast_ratio(used["background"], "#FFFFFF") > contrast_ratio(used["background"], "#000000")
            assert used["treatment"] == "as_is"  # never a plate or a knockout: a version is made for it
            assert used["asset_id"] == (light if on_dark else dark)["asset_id"]
            seen.add(used["asset_id"])
            x, y, w, h = asset["layout"]["logo_box"]
            with urllib.request.urlopen(asset["url"], timeout=10) as fetched:
                pixels = np.asarray(Image.open(io.BytesIO(fetched.read())).convert("RGB"))[y:y + h, x:x + w]
            ink = np.array(LIGHT_INK if on_dark else DARK_INK)
            assert (np.abs(pixels.astype(int) - ink).sum(axis=2) < 40).mean() > 0.15  # that version's own ink
        assert any("logo version" in note for note in response.json()["audit"]["notes"])
    assert seen == {dark["asset_id"], light["asset_id"]}

    # Edited through PUT, checked by the schema and against the project's assets.
    current = api.request("GET", f"/canon/{project}")
    edited = dict(current.json()["canon"]) | {"logo_versions": [{"asset_id": dark["asset_id"], "use_on": "any"}]}
    saved = api.request("PUT", f"/canon/{project}", edited, headers={"If-Match": current.headers["etag"]})
    assert saved.status == 200, saved.body
    assert saved.json()["canon"]["logo_versions"] == [{"asset_id": dark["asset_id"], "use_on": "any"}]
    assert any(entry["field"] == "logo_versions" and entry["source"] == "manual"
               for entry in saved.json()["provenance"])
    wrong = api.request("PUT", f"/canon/{project}", edited | {"logo_versions": [
        {"asset_id": dark["asset_id"], "use_on": "midtone"}]})
    assert wrong.status == 422
    assert "logo_versions" in str(wrong.json()["error"]["details"])
    unknown = api.request("PUT", f"/canon/{project}", edited | {"logo_versions": [
        {"asset_id": "no-such-logo", "use_on": "dark"}]})
    assert unknown.status == 404
    assert unknown.json()["error"]["details"]["field"] == "body.logo_versions.0.asset_id"
    twice = api.request("PUT", f"/canon/{project}", edited | {"logo_versions": [
        {"asset_id": dark["asset_id"], "use_on": "dark"}, {"asset_id": dark["asset_id"], "use_on": "light"}]})
    assert twice.status == 422
    assert twice.json()["error"]["code"] == "duplicate_logo_version"
