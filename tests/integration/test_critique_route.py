"""POST /critique through the real Lambda path: API Gateway v2 event -> Mangum -> critique function -> moto.

Measured findings on labelled external designs (palette, contrast, logo clear space) and on SGD's own renders,
the annotated copy in S3, format checks, cross-org isolation, bad bytes and the request limits; then, against
the loopback fake OpenRouter, the model merge rules and a provider failure.
"""

from __future__ import annotations

import io
import json
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from sgd.tenancy import Tenant

from bench.support.seeds import runtime_adapters, seed_asset, seed_canon
from tests.conftest import ROOT, ApiClient

pytestmark = pytest.mark.integration
KIT = ROOT / "examples" / "brands" / "northwind-coffee"
LABELS = json.loads((KIT / "critique" / "labels.json").read_text())
TRUTH = json.loads((KIT / "truth.json").read_text())
CANON = {name: TRUTH[name] for name in ("palette_hex", "forbidden_hex", "fonts", "voice", "logo_safe_zone_pct")}


def new_project() -> str:
    return f"c-{uuid.uuid4().hex[:12]}"


def put_asset(runtime: Any, org: str, project: str, asset_id: str, data: bytes, *, kind: str = "image",
              content_type: str = "image/png", record: dict[str, Any] | None = None) -> None:
    seed_asset(runtime_adapters(runtime), Tenant(org, project), asset_id, data, kind=kind, content_type=content_type,
               **(record or {}))


def put_design(runtime: Any, org: str, project: str, name: str) -> str:
    data = (KIT / "critique" / name).read_bytes()
    width, height = LABELS[name]["size"]
    asset_id = name.removesuffix(".png").replace("_", "-")
    put_asset(runtime, org, project, asset_id, data, record={"width": width, "height": height, "format": "png"})
    return asset_id


def with_canon(runtime: Any, org: str, project: str, *, logo: bool = True) -> dict[str, Any]:
    canon = dict(CANON)
    if logo:
        put_asset(runtime, org, project, "brand-logo", (KIT / "logo.png").read_bytes(), kind="logo")
        canon["logo_asset_id"] = "brand-logo"
    return seed_canon(runtime_adapters(runtime), Tenant(org, project), canon).as_document()


def download(url: str) -> Image.Image:
    with urllib.request.urlopen(url, timeout=10) as response:
        return Image.open(io.BytesIO(response.read()))


@pytest.fixture(scope="module")
def brand(runtime: Any) -> str:
    project = new_project()
    with_canon(runtime, "acme", project)
    return project


def critique(api: ApiClient, project: str, *asset_ids: str) -> dict[str, Any]:
    response = api.request("POST", "/critique", {"project_id": project, "asset_ids": list(asset_ids)})
    assert response.status == 200, response.body
    return response.json()


def kinds(asset: dict[str, Any]) -> set[str]:
    return {violation["kind"] for violation in asset["violations"]}


def x1y1(box: list[int]) -> tuple[int, int, int, int]:
    return box[0], box[1], box[0] + box[2], box[1] + box[3]


def test_an_on_brand_design_passes_with_every_check_reported(api: ApiClient, runtime: Any, brand: str) -> None:
    asset_id = put_design(runtime, "acme", brand, "on_brand_1080x1080.png")
    body = critique(api, brand, asset_id)
    asset = body["assets"][0]
    assert body["score"] == asset["score"] == 1.0
    assert body["violations"] == asset["violations"] == []
    assert set(asset["checks"]) >= {"palette", "contrast", "logo_safe_zone", "format"}
    assert asset["checks"]["format"]["ok"] is True
    assert body["audit"]["model_route"] == ["local/critic"]
    assert body["audit"]["cost_usd"] == 0
    assert body["canon_version"] >= 1
    annotated = download(asset["annotated_url"])
    assert annotated.format == "JPEG"
    assert annotated.width == 1080
    assert annotated.height > 1080


def test_labelled_violations_are_found_boxed_and_explained(api: ApiClient, runtime: Any, brand: str) -> None:
    name = "off_palette_and_logo_edge_1080x1080.png"
    asset_id = put_design(runtime, "acme", brand, name)
    body = critique(api, brand, asset_id)
    asset = body["assets"][0]
    assert kinds(asset) == set(LABELS[name]["violations"])
    assert asset["score"] < 1.0
    palette = [violation for violation in asset["violations"] if violation["kind"] == "palette"]
    px0, py0, px1, py1 = x1y1(palette[0]["box"])
    lx0, ly0, lx1, ly1 = LABELS[name]["off_palette_box"]
    assert px0 <= lx0 + 2
    assert py0 <= ly0 + 2
    assert px1 >= lx1 - 2
    assert py1 >= ly1 - 2
    assert all(violation["asset_id"] == asset_id and violation["source"] == "measured"
               for violation in asset["violations"])
    assert body["repair_suggestions"]
    assert asset["repair_suggestions"]
    offending = [cluster for cluster in asset["checks"]["palette"]["clusters"] if cluster["status"] != "ok"]
    assert offending
    assert all(cluster["delta_e"] > 3 for cluster in offending)
    clear = asset["checks"]["logo_safe_zone"]
    assert min(clear["edge_distances_px"].values()) < clear["required_px"]
    key = f"org/acme/projects/{brand}/critiques/{body['critique_id']}/{asset_id}.jpg"
    stored = runtime.aws.client("s3").get_object(Bucket=runtime.stack.bucket_name, Key=key)
    assert stored["ContentType"] == "image/jpeg"


def test_low_contrast_text_is_measured_against_what_is_under_it(api: ApiClient, runtime: Any, brand: str) -> None:
    name = "low_contrast_1200x628.png"
    asset = critique(api, brand, put_design(runtime, "acme", brand, name))["assets"][0]
    assert kinds(asset) == {"contrast"}
    boxes = asset["checks"]["contrast"]["text_boxes"]
    failing = [box for box in boxes if not box["ok"]]
    assert failing
    assert failing[0]["ratio"] == pytest.approx(LABELS[name]["text_boxes"][0]["contrast"], abs=0.15)


def test_several_assets_in_one_request_and_the_batch_score_is_the_weakest(api: ApiClient, runtime: Any,
                                                                          brand: str) -> None:
    names = ["on_brand_1200x628.png", "off_palette_1200x628.png", "logo_edge_1200x628.png"]
    ids = [put_design(runtime, "acme", brand, name) for name in names]
    body = critique(api, brand, *ids)
    assert [asset["asset_id"] for asset in body["assets"]] == ids
    assert body["score"] == min(asset["score"] for asset in body["assets"])
    for name, asset in zip(names, body["assets"], strict=True):
        assert kinds(asset) == set(LABELS[name]["violations"]), name
    assert all(suggestion.split(":")[0] in ids for suggestion in body["repair_suggestions"])


def test_sgd_renders_are_critiqued_from_their_layout_and_pass(api: ApiClient, runtime: Any) -> None:
    project = new_project()
    with_canon(runtime, "acme", project)
    response = api.request("POST", "/render", {"project_id": project, "prompts": {"task": "create", "instruction":
                           'Instagram post: "Taste the harvest" with a Shop now button'},
                           "outputs": {"count": 2, "format": "png", "dimensions": "1080x1080"}})
    assert response.status == 200, response.body
    ids = [asset["id"] for asset in response.json()["assets"]]
    body = critique(api, project, *ids)
    assert body["score"] == 1.0, body["violations"]
    for asset in body["assets"]:
        assert asset["checks"]["contrast"]["source"] == "layout"
        assert asset["checks"]["contrast"]["text_boxes"]
        assert all(box["ok"] for box in asset["checks"]["contrast"]["text_boxes"])


def test_a_design_whose_file_differs_from_its_record_fails_format(api: ApiClient, runtime: Any, brand: str) -> None:
    image = Image.open(KIT / "critique" / "on_brand_1080x1080.png").convert("RGB")
    jpeg = io.BytesIO()
    image.save(jpeg, format="JPEG", quality=92)
    put_asset(runtime, "acme", brand, "mislabelled", jpeg.getvalue(), content_type="image/jpeg",
              record={"width": 1200, "height": 628, "format": "png"})
    asset = critique(api, brand, "mislabelled")["assets"][0]
    assert "format" in kinds(asset)
    assert asset["checks"]["format"]["ok"] is False


# -- what a client gets wrong: 4xx, never 5xx ------------------------------------------------------------------------
def test_another_orgs_assets_are_not_found(api: ApiClient, api_other_org: ApiClient, runtime: Any,
                                           brand: str) -> None:
    asset_id = put_design(runtime, "acme", brand, "on_brand_1080x1080.png")
    response = api_other_org.request("POST", "/critique", {"project_id": brand, "asset_ids": [asset_id]})
    assert response.status == 404, response.body
    assert response.json()["error"]["details"]["unknown_asset_ids"] == [asset_id]


def test_unknown_assets_are_named(api: ApiClient, brand: str) -> None:
    response = api.request("POST", "/critique", {"project_id": brand, "asset_ids": ["nope-1", "nope-2"]})
    assert response.status == 404
    assert response.json()["error"]["details"]["unknown_asset_ids"] == ["nope-1", "nope-2"]


@pytest.mark.parametrize("data", [b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
                                  (KIT / "critique" / "on_brand_1080x1080.png").read_bytes()[:5000]],
                         ids=["garbage", "png-signature-only", "truncated-png"])
def test_bad_image_bytes_are_a_422(api: ApiClient, runtime: Any, brand: str, data: bytes) -> None:
    asset_id = f"broken-{uuid.uuid4().hex[:8]}"
    put_asset(runtime, "acme", brand, asset_id, data)
    response = api.request("POST", "/critique", {"project_id": brand, "asset_ids": [asset_id]})
    assert response.status == 422, response.body
    error = response.json()["error"]
    assert error["code"] == "image_undecodable"
    assert error["details"]["asset_id"] == asset_id
    assert response.json()["request_id"]


def test_only_designs_can_be_critiqued(api: ApiClient, runtime: Any, brand: str) -> None:
    put_asset(runtime, "acme", brand, "guide-pdf", b"%PDF-1.7 ...", kind="pdf", content_type="application/pdf")
    put_asset(runtime, "acme", brand, "quarantined", b"x", record={"status": "rejected"})
    response = api.request("POST", "/critique", {"project_id": brand, "asset_ids": ["guide-pdf", "quarantined"]})
    assert response.status == 422
    assert response.json()["error"]["code"] == "not_a_design"
    assert {item["asset_id"] for item in response.json()["error"]["details"]["assets"]} == {"guide-pdf",
                                                                                          "quarantined"}


def test_without_a_canon_the_critique_says_what_to_do(api: ApiClient, runtime: Any) -> None:
    project = new_project()
    asset_id = put_design(runtime, "acme", project, "on_brand_1080x1080.png")
    response = api.request("POST", "/critique", {"project_id": project, "asset_ids": [asset_id]})
    assert response.status == 422
    assert response.json()["error"]["code"] == "canon_required"
    assert "/canon/derive" in response.json()["error"]["message"]


def test_a_missing_stored_file_is_a_404(api: ApiClient, runtime: Any, brand: str) -> None:
    seed_asset(runtime_adapters(runtime), Tenant("acme", brand), "gone", None)
    response = api.request("POST", "/critique", {"project_id": brand, "asset_ids": ["gone"]})
    assert response.status == 404
    assert "render or upload it again" in response.json()["error"]["message"]


# -- with a vision model (the loopback fake OpenRouter) --------------------------------------------------------------
@pytest.fixture(scope="module")
def keyed() -> Iterator[tuple[ApiClient, Any, Any, str]]:
    import tempfile
    from pathlib import Path

    from bench.support.fake_openrouter import FakeOpenRouter
    from sgd_local.runtime import LocalRuntime, RuntimeOptions

    with FakeOpenRouter() as fake, tempfile.TemporaryDirectory() as data_dir:
        options = RuntimeOptions(data_dir=Path(data_dir), persist=False, throttle=False, environment={
            "OPENROUTER_API_KEY": "sk-test", "OPENROUTER_BASE_URL": fake.base_url})
        with LocalRuntime(options, root=ROOT) as runtime:
            project = new_project()
            with_canon(runtime, "acme", project)
            yield ApiClient(runtime), fake, runtime, project


def test_the_model_adds_findings_and_lowers_the_score_but_never_clears_a_measured_one(
        keyed: tuple[ApiClient, Any, Any, str]) -> None:
    from bench.support.fake_openrouter import Reply

    api, fake, runtime, project = keyed
    asset_id = put_design(runtime, "acme", project, "off_palette_1080x1080.png")
    fake.reset()
    # The model claims all is well (score 1.0), adds a finding of its own and repeats a measured one.
    fake.set_default(Reply.json({"score": 1.0, "violations": [
        {"kind": "other", "message": "The headline is off-voice: too shouty", "severity": "low",
         "box": [100, 500, 700, 100]},
        {"kind": "palette", "message": "Green block is off palette", "box": [590, 70, 400, 300]},
    ], "repair_suggestions": ["Use a calmer headline"]}, cost=0.002))
    body = critique(api, project, asset_id)
    asset = body["assets"][0]
    sources = [(violation["kind"], violation["source"]) for violation in asset["violations"]]
    assert ("palette", "measured") in sources  # a model score of 1.0 cannot clear it
    assert ("other", "model") in sources
    assert ("palette", "model") not in sources  # the repeat of a measured finding is dropped
    assert asset["checks"]["model"]["repeats_of_measured_dropped"] == 1
    assert asset["score"] == asset["measured_score"] < 1.0  # the model can lower, never raise
    assert "Use a calmer headline" in asset["repair_suggestions"]
    assert body["audit"]["model_route"] == ["local/critic", "google/gemini-2.0-flash-001"]
    assert body["audit"]["cost_usd"] == pytest.approx(0.002)
    sent = fake.requests[0].body["messages"]
    assert "image_url" in json.dumps(sent)
    assert "#3B2314" in json.dumps(sent)


def test_a_model_score_lowers_a_clean_design(keyed: tuple[ApiClient, Any, Any, str]) -> None:
    from bench.support.fake_openrouter import Reply

    api, fake, runtime, project = keyed
    asset_id = put_design(runtime, "acme", project, "on_brand_1080x1080.png")
    fake.reset()
    fake.set_default(Reply.json({"score": 0.6, "violations": [], "repair_suggestions": []}))
    asset = critique(api, project, asset_id)["assets"][0]
    assert asset["measured_score"] == 1.0
    assert asset["score"] == pytest.approx(0.8)  # min(measured, (1 - 0.5) * measured + 0.5 * model)


def test_a_provider_failure_is_a_5xx_not_a_measured_only_answer(keyed: tuple[ApiClient, Any, Any, str]) -> None:
    from bench.support.fake_openrouter import Reply

    api, fake, runtime, project = keyed
    asset_id = put_design(runtime, "acme", project, "on_brand_1200x628.png")
    fake.reset()
    fake.set_default(Reply.status(500, "upstream exploded"))
    response = api.request("POST", "/critique", {"project_id": project, "asset_ids": [asset_id]})
    assert response.status in (502, 503), response.body


def test_a_large_design_reaches_the_model_shrunk_and_its_boxes_come_back_in_design_pixels(
        keyed: tuple[ApiClient, Any, Any, str]) -> None:
    import base64

    from bench.support.fake_openrouter import Reply

    api, fake, runtime, project = keyed
    large = Image.open(KIT / "critique" / "on_brand_1080x1080.png").convert("RGB").resize((3136, 3136))
    encoded = io.BytesIO()
    large.save(encoded, format="PNG")
    put_asset(runtime, "acme", project, "large", encoded.getvalue(),
              record={"width": 3136, "height": 3136, "format": "png"})
    fake.reset()
    fake.set_default(Reply.json({"score": 0.9, "violations": [
        {"kind": "other", "message": "The tagline is off-voice", "box": [100, 200, 50, 40]}],
        "repair_suggestions": []}))
    asset = critique(api, project, "large")["assets"][0]
    model_findings = [violation for violation in asset["violations"] if violation["source"] == "model"]
    assert model_findings[0]["box"] == [200, 400, 100, 80]  # the model saw 1568 px: twice as small
    url = json.dumps(fake.requests[0].body["messages"]).split("data:image/jpeg;base64,")[1].split('"')[0]
    assert Image.open(io.BytesIO(base64.b64decode(url))).size == (1568, 1568)


def test_designs_too_large_to_measure_are_refused_before_any_work(api: ApiClient, runtime: Any, brand: str) -> None:
    data = (KIT / "critique" / "on_brand_1080x1080.png").read_bytes()
    put_asset(runtime, "acme", brand, "poster-8k", data, record={"width": 8000, "height": 5000, "format": "png"})
    response = api.request("POST", "/critique", {"project_id": brand, "asset_ids": ["poster-8k"]})
    assert response.status == 422
    assert response.json()["error"]["code"] == "design_too_large"
    assert response.json()["error"]["details"]["assets"] == [{"asset_id": "poster-8k", "pixels": 40_000_000}]
    ids = []
    for index in range(3):  # each within the per-design limit, together over the request's
        ids.append(f"square-{index}")
        put_asset(runtime, "acme", brand, ids[-1], data, record={"width": 4000, "height": 4000, "format": "png"})
    response = api.request("POST", "/critique", {"project_id": brand, "asset_ids": ids})
    assert response.status == 422
    assert response.json()["error"]["code"] == "critique_too_large"
    assert "fewer designs" in response.json()["error"]["message"]


def test_a_design_using_a_logo_version_of_the_canon_is_judged_as_that_version(api: ApiClient, runtime: Any) -> None:
    """The canon's logo versions (here a light one in colours of its own, for dark backgrounds) are loaded with the
    primary logo: an external design that shows the light version is not "recoloured", and the check names it."""
    import numpy as np

    project = new_project()
    primary = Image.open(KIT / "logo.png").convert("RGBA")
    pixels = np.asarray(primary).copy()
    pixels[..., :3] = 255 - pixels[..., [1, 2, 0]]  # other hues, lighter where the primary is dark: same shape
    light = Image.fromarray(pixels, "RGBA")
    buffer = io.BytesIO()
    light.save(buffer, format="PNG")
    put_asset(runtime, "acme", project, "brand-logo", (KIT / "logo.png").read_bytes(), kind="logo")
    put_asset(runtime, "acme", project, "logo-light", buffer.getvalue(), kind="logo")
    seed_canon(runtime_adapters(runtime), Tenant("acme", project), dict(CANON) | {
        "logo_asset_id": "brand-logo", "logo_versions": [{"asset_id": "logo-light", "use_on": "dark"}]})
    background = CANON["palette_hex"][0]
    design = Image.new("RGB", (1080, 1080), background)
    shown = light.resize((320, round(320 * light.height / light.width)))
    design.paste(shown, (380, 400), shown)
    buffer = io.BytesIO()
    design.save(buffer, format="PNG")
    put_asset(runtime, "acme", project, "with-light-logo", buffer.getvalue(),
              record={"width": 1080, "height": 1080, "format": "png"})
    asset = critique(api, project, "with-light-logo")["assets"][0]
    clear = asset["checks"]["logo_safe_zone"]
    assert clear["found"] is True, clear
    assert clear["logo_version"] == "logo-light", clear
    assert not [v for v in asset["violations"] if v["kind"] == "logo_safe_zone"], asset["violations"]
