"""The render repair loop through the real Lambda path: every asset carries the pixel critic's summary; an asset
below the policy's threshold is re-planned with its violations and rendered again (auto_repair), the audit shows
each attempt with its score, the cache replays summaries and attempts, and a model planner is told what to fix."""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sgd.critique.policy import load_critique_policy
from sgd.design.colorimetry import nearest_palette_distance, srgb_to_lab
from sgd.repositories.assets import AssetRecords
from sgd.tenancy import Tenant

from bench.support.seeds import runtime_adapters, seed_asset
from tests.conftest import ROOT, ApiClient
from tests.integration.test_render_route import CANON, new_project, render_body, s3_object, with_canon

pytestmark = pytest.mark.integration
PHOTO_ID = "photo1"
EDIT = {"task": "edit", "instruction": 'Put our headline on the photo: "Fresh roast, every morning"',
        "references": [PHOTO_ID]}


def vivid_green_photo(size: int = 480) -> bytes:
    """A photo-like picture (a lit green field with grain) far from every colour of CANON's palette."""
    rng = np.random.default_rng(11)
    rows, columns = np.mgrid[0:size, 0:size]
    light = 0.5 + 0.35 * np.sin(columns / 37) * np.cos(rows / 53) + rng.normal(0, 0.04, (size, size))
    photo = np.stack([40 + 60 * light, 170 + 80 * light, 30 + 40 * light], axis=-1)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def with_photo(runtime: Any, org: str, project: str) -> None:
    """An ingested image asset in the project, as the ingest pipeline leaves it (usable as a reference)."""
    seed_asset(runtime_adapters(runtime), Tenant(org, project), PHOTO_ID, vivid_green_photo(), filename="photo.png")


def asset_record(runtime: Any, project: str, asset_id: str) -> dict[str, Any]:
    record = AssetRecords(runtime_adapters(runtime).assets_table).get(Tenant("acme", project), asset_id)
    assert record is not None
    return dataclasses.asdict(record)


def edit_project(runtime: Any, org: str = "acme") -> str:
    project = new_project()
    with_canon(runtime, org, project, logo=True)
    with_photo(runtime, org, project)
    return project


# -- every asset is critiqued -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("image_format", ["png", "jpg", "webp"])
def test_an_on_canon_render_carries_a_perfect_critique_per_asset(runtime: Any, api: ApiClient,
                                                                 image_format: str) -> None:
    project = new_project()
    with_canon(runtime, "acme", project, logo=True)
    body = render_body(project, outputs={"count": 2, "format": image_format, "dimensions": "400x320"})
    response = api.request("POST", "/render", body)
    assert response.status == 200, response.body
    result = response.json()
    for asset in result["assets"]:
        assert asset["critique"] == {"score": 1.0, "passed": True, "violations": [], "source": "measured"}, asset
        assert asset["layout"]["imagery_box"] is None  # offline: the brand graphic, no picture
        assert asset_record(runtime, project, asset["id"])["critique"] == asset["critique"]
    assert result["audit"]["repairs"] == []
    assert result["audit"]["model_route"] == ["local/planner", "local/compositor"]  # no re-plan


# -- the repair loop --------------------------------------------------------------------------------------------------
def test_an_off_palette_edit_is_repaired_and_the_audit_shows_each_attempt(runtime: Any, api: ApiClient) -> None:
    policy = load_critique_policy()
    assert policy.auto_repair_default is True  # the request leaves auto_repair out
    project = edit_project(runtime)
    response = api.request("POST", "/render", render_body(project, prompts=EDIT))
    assert response.status == 200, response.body
    result = response.json()
    asset = result["assets"][0]
    repairs = result["audit"]["repairs"]
    assert [entry["attempt"] for entry in repairs] == list(range(len(repairs)))
    first, last = repairs[0], repairs[-1]
    assert first["asset_id"] == last["asset_id"] == asset["id"]
    assert first["score"] < policy.repair_threshold
    assert first["passed"] is False
    assert "palette" in first["violation_kinds"]
    assert first["kept"] is False
    assert len(repairs) == 2  # one re-plan was enough
    assert last["passed"] is True
    assert last["score"] >= policy.repair_threshold
    assert "imagery_treatment: as_is -> palette" in last["changes"]
    assert last["kept"] is True
    assert asset["critique"]["passed"] is True
    assert asset["critique"]["score"] == last["score"]
    assert not [finding for finding in asset["critique"]["violations"] if finding["kind"] == "palette"]
    assert asset["layout"]["imagery_treatment"] == "palette"
    assert result["audit"]["plan"]["layout"].get("imagery_treatment", "as_is") == "as_is"  # the first plan

    # What is stored is the kept attempt: its layout and summary, and pixels on the palette in the picture area.
    record = asset_record(runtime, project, asset["id"])
    assert record["critique"] == asset["critique"]
    assert record["layout"]["imagery_treatment"] == "palette"
    data, _content_type = s3_object(runtime, record["key"])
    pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    x, y, width, height = record["layout"]["imagery_box"]
    picture = np.ones(pixels.shape[:2], dtype=bool)
    for entry in record["layout"]["text_boxes"]:
        bx, by, bw, bh = entry["box"]
        picture[by:by + bh, bx:bx + bw] = False
    picture[:y] = picture[y + height:] = False
    picture[:, :x] = picture[:, x + width:] = False
    if record["layout"]["logo_box"]:
        lx, ly, lw, lh = record["layout"]["logo_box"]
        picture[ly:ly + lh, lx:lx + lw] = False
    colors = np.unique(pixels[picture], axis=0)
    _index, distance = nearest_palette_distance(srgb_to_lab(colors), CANON["palette_hex"])
    assert float(distance.max()) <= 3.0

    # The same request again: the cache replays the stored asset, its summary and the attempts, re-rendering nothing.
    again = api.request("POST", "/render", render_body(project, prompts=EDIT))
    assert again.status == 200, again.body
    replay = again.json()
    assert replay["audit"]["cache"] == "hit"
    assert replay["render_id"] == result["render_id"]
    assert replay["assets"][0]["critique"] == asset["critique"]
    assert replay["audit"]["repairs"] == repairs


def test_auto_repair_false_delivers_the_failing_asset_with_its_summary(runtime: Any, api: ApiClient) -> None:
    project = edit_project(runtime)
    repaired = api.request("POST", "/render", render_body(project, prompts=EDIT, auto_repair=True))
    assert repaired.status == 200, repaired.body
    response = api.request("POST", "/render", render_body(project, prompts=EDIT, auto_repair=False))
    assert response.status == 200, response.body
    result = response.json()
    assert result["audit"]["cache"] == "miss"  # auto_repair is part of the cache key: it changes the output
    assert result["render_id"] != repaired.json()["render_id"]
    assert result["audit"]["repairs"] == []
    critique = result["assets"][0]["critique"]
    assert critique["passed"] is False
    assert critique["score"] < load_critique_policy().repair_threshold
    palette = [finding for finding in critique["violations"] if finding["kind"] == "palette"]
    assert palette
    assert all(finding["severity"] in ("low", "medium", "high") and finding["message"] for finding in palette)
    x, y, width, height = result["assets"][0]["layout"]["imagery_box"]
    for finding in palette:  # the off-palette colour is found inside the picture
        fx, fy, fw, fh = finding["box"]
        assert x <= fx, finding
        assert y <= fy, finding
        assert fx + fw <= x + width, finding
        assert fy + fh <= y + height, finding
    assert result["assets"][0]["layout"]["imagery_treatment"] == "as_is"
    assert asset_record(runtime, project, result["assets"][0]["id"])["critique"] == critique


def test_a_job_repairs_as_a_sync_render_does(runtime: Any, api: ApiClient) -> None:
    from tests.integration.test_render_jobs import wait_for

    project = edit_project(runtime)
    accepted = api.request("POST", "/render", render_body(project, prompts=EDIT) | {"async": True})
    assert accepted.status == 202, accepted.body
    job = wait_for(api, accepted.headers["location"], ("succeeded", "failed"))
    assert job["status"] == "succeeded", job
    assert [entry["passed"] for entry in job["result"]["audit"]["repairs"]] == [False, True]
    assert job["result"]["assets"][0]["critique"]["passed"] is True


# -- a model planner gets the violations ----------------------------------------------------------------------------
MODEL_PLAN = {"goal": "Put the headline on the reference photo", "ops": ["local_edit", "text_overlay"],
              "safety": {"respect_logo_safe_zone": True, "palette_only": True},
              "layout": {"template": "hero", "headline": "Fresh roast, every morning", "background_hex": "#F2E8CF",
                         "text_hex": "#0B3D2E", "logo_position": "top-left"}}


def planner_input(request: Any) -> dict[str, Any]:
    return json.loads(request.body["messages"][1]["content"])


def model_planner(request: Any) -> Any:
    """The fake provider's planner: MODEL_PLAN, re-toning the picture when a repair request names palette."""
    from bench.support.fake_openrouter import Reply

    repair = planner_input(request).get("repair")
    if repair and any(finding["kind"] == "palette" for finding in repair["violations"]):
        return Reply.json(MODEL_PLAN | {"layout": MODEL_PLAN["layout"] | {"imagery_treatment": "palette"}})
    return Reply.json(MODEL_PLAN)


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """A runtime with a provider key, against a fake OpenRouter."""
    from bench.support.fake_openrouter import FakeOpenRouter
    from sgd_local.runtime import LocalRuntime, RuntimeOptions

    with FakeOpenRouter() as fake:
        options = RuntimeOptions(data_dir=tmp_path_factory.mktemp("sgd-repair-keyed"), persist=False, throttle=False,
                                 environment={
            "OPENROUTER_API_KEY": "sk-test", "OPENROUTER_BASE_URL": fake.base_url})
        with LocalRuntime(options, root=ROOT) as keyed_runtime:
            yield keyed_runtime, fake


def test_the_model_planner_is_told_the_violations_and_its_repair_plan_is_rendered(keyed: tuple[Any, Any]) -> None:
    runtime, fake = keyed
    api = ApiClient(runtime)
    project = edit_project(runtime)
    fake.reset()
    fake.respond_with(model_planner)
    response = api.request("POST", "/render", render_body(project, prompts=EDIT))
    assert response.status == 200, response.body
    result = response.json()

    planner_requests = [request for request in fake.requests if "response_format" in request.body]
    assert len(planner_requests) == 2  # the plan, then one re-plan
    first, replan = (planner_input(request) for request in planner_requests)
    assert "repair" not in first
    assert replan["repair"]["attempt"] == 1
    kinds = {finding["kind"] for finding in replan["repair"]["violations"]}
    assert "palette" in kinds
    assert all(set(finding) == {"kind", "message", "severity", "box"} for finding in replan["repair"]["violations"])
    assert replan["request"]["prompts"] == first["request"]["prompts"]
    assert "repair" not in replan["request"]
    system = planner_requests[1].body["messages"][0]["content"]
    assert '"repair"' in system
    assert "imagery_treatment" in system

    repairs = result["audit"]["repairs"]
    assert [(entry["attempt"], entry["passed"], entry["kept"]) for entry in repairs] == [
        (0, False, False), (1, True, True)]
    assert result["assets"][0]["layout"]["imagery_treatment"] == "palette"
    assert result["audit"]["model_route"] == ["openai/gpt-4o-mini"]
    assert len([call for call in result["audit"]["calls"] if call["model"] == "openai/gpt-4o-mini"]) == 2
