"""POST /render through the real Lambda path: API Gateway v2 event -> Mangum -> render function -> moto.

Every contract limit, the content policy, canon conflicts and override, the neutral default, a stored render
(S3 object, asset record, presigned URL), the plan/render cache against a counting fake provider, idempotency,
references and cross-org isolation.
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
from sgd.repositories.assets import AssetRecords, FontRecord
from sgd.tenancy import Tenant

from bench.support.seeds import runtime_adapters, seed_asset, seed_canon
from tests.conftest import ROOT, ApiClient
from tests.conftest import run_async as run_coroutine

pytestmark = pytest.mark.integration
LOGO = ROOT / "examples" / "brands" / "helio-energy" / "logo.png"
FONT = ROOT / "layers" / "imaging" / "fonts" / "DejaVuSerif.ttf"
CANON = {"palette_hex": ["#0B3D2E", "#F2E8CF", "#E07A5F"], "forbidden_hex": ["#FF00FF"], "fonts": ["Inter"],
         "voice": {"tone": "warm"}, "logo_safe_zone_pct": 8}


def new_project() -> str:
    return f"p-{uuid.uuid4().hex[:12]}"


def render_body(project: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"project_id": project, "prompts": {"task": "create", "instruction":
                            'Launch post for our autumn blend: "Fresh roast, every morning"'},
                            "outputs": {"count": 1, "format": "png", "dimensions": "320x320"}}
    return body | changes


def with_canon(runtime: Any, org: str, project: str, canon: dict[str, Any] | None = None, *,
               logo: bool = False, font_family: str | None = None) -> dict[str, Any]:
    """What ingest and canon derivation leave behind: a canon version, and the logo/font files it names."""
    adapters = runtime_adapters(runtime)
    tenant = Tenant(org, project)
    canon = dict(canon or CANON)
    if logo:
        seed_asset(adapters, tenant, "logo1", LOGO.read_bytes(), kind="logo", filename="logo.png")
        canon["logo_asset_id"] = "logo1"
    if font_family:
        key = tenant.asset_key("font1", "font.ttf")
        adapters.storage.put(key, FONT.read_bytes(), content_type="font/ttf")
        AssetRecords(adapters.assets_table).save_font(FontRecord(
            org=org, project=project, family=font_family, asset_id="font1", key=key, created_at="2026-01-01",
            style="regular"))
    return seed_canon(adapters, tenant, canon).as_document()


def s3_object(runtime: Any, key: str) -> tuple[bytes, str]:
    response = runtime.aws.client("s3").get_object(Bucket=runtime.stack.bucket_name, Key=key)
    return response["Body"].read(), response["ContentType"]


# -- the contract's limits -----------------------------------------------------------------------------------------
LIMITS = [
    ({"project_id": "has space"}, "body.project_id"),
    ({"project_id": "x" * 65}, "body.project_id"),
    ({"prompts": {"task": "paint", "instruction": "Hello there"}}, "body.prompts.task"),
    ({"prompts": {"task": "create", "instruction": "Hey"}}, "body.prompts.instruction"),
    ({"prompts": {"task": "create", "instruction": "x" * 2001}}, "body.prompts.instruction"),
    ({"prompts": {"task": "create", "instruction": "Hello there", "references": ["a"] * 9}},
     "body.prompts.references"),
    ({"prompts": {"task": "create", "instruction": "Hello there", "references": ["http://example.com/a.png"]}},
     "body.prompts.references.0"),
    ({"outputs": {"count": 0}}, "body.outputs.count"),
    ({"outputs": {"count": 7}}, "body.outputs.count"),
    ({"outputs": {"format": "gif"}}, "body.outputs.format"),
    ({"outputs": {"dimensions": "31x100"}}, "body.outputs.dimensions"),
    ({"outputs": {"dimensions": "100x4097"}}, "body.outputs.dimensions"),
    ({"outputs": {"dimensions": "4096x4097"}}, "body.outputs.dimensions"),
    ({"outputs": {"dimensions": "1080 by 1080"}}, "body.outputs.dimensions"),
    ({"constraints": {"palette_hex": ["#000000"] * 13}}, "body.constraints.palette_hex"),
    ({"constraints": {"palette_hex": ["red"]}}, "body.constraints.palette_hex.0"),
    ({"constraints": {"fonts": ["Inter"] * 7}}, "body.constraints.fonts"),
    ({"constraints": {"logo_safe_zone_pct": -1}}, "body.constraints.logo_safe_zone_pct"),
    ({"constraints": {"logo_safe_zone_pct": 40.5}}, "body.constraints.logo_safe_zone_pct"),
    ({"webhook_url": "ftp://example.com/hook"}, "body.webhook_url"),
    ({"colour": "blue"}, "body.colour"),
]


@pytest.mark.parametrize(("change", "field"), LIMITS, ids=[field + ":" + json.dumps(c)[:30] for c, field in LIMITS])
def test_every_contract_limit_is_a_422_naming_the_field(api: ApiClient, change: dict[str, Any], field: str) -> None:
    response = api.request("POST", "/render", render_body("limits") | change)
    assert response.status == 422, response.body
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in [detail["field"] for detail in error["details"]]


def test_4096_square_is_the_largest_area_allowed_by_the_contract(api: ApiClient) -> None:
    # 4096x4096 is exactly 16,777,216 px: valid; the render itself is not run here (a content block stops it first).
    body = render_body("limits", outputs={"dimensions": "4096x4096"},
                       prompts={"task": "create", "instruction": "A poster about cocaine"})
    assert api.request("POST", "/render", body).json()["error"]["code"] == "content_blocked"


# -- content policy -------------------------------------------------------------------------------------------------
def test_a_blocked_term_is_a_422_naming_the_rule(api: ApiClient) -> None:
    body = render_body(new_project(), prompts={"task": "create", "instruction": "Flyer celebrating the Massacre"})
    response = api.request("POST", "/render", body)
    assert response.status == 422
    error = response.json()["error"]
    assert error["code"] == "content_blocked"
    assert (error["details"]["rule_id"], error["details"]["term"]) == ("violence.weapons", "massacre")


@pytest.mark.parametrize(("instruction", "term"), [
    ("Poster: \uff43\uff4f\uff43\uff41\uff49\uff4e\uff45 sale", "cocaine"),  # fullwidth
    ("Poster: co\u00adcai\u200bne sale", "cocaine"),  # soft hyphen, zero-width space
    ("Poster: c\u043ecaine sale", "cocaine"),  # Cyrillic o
    ("Poster: c0caine sale", "cocaine"),
    ("Flyer with nudes", "nude"),
    ("Flyer about pornography", "porn"),
])
def test_a_blocked_term_cannot_be_spelled_around(api: ApiClient, instruction: str, term: str) -> None:
    body = render_body(new_project(), prompts={"task": "create", "instruction": instruction})
    response = api.request("POST", "/render", body)
    assert response.status == 422
    assert response.json()["error"]["details"]["term"] == term


def test_words_that_merely_contain_a_term_render(api: ApiClient) -> None:
    body = render_body(new_project(), prompts={"task": "create", "instruction":
                       "Workshop on design skills and our method"})
    response = api.request("POST", "/render", body)
    assert response.status == 200, response.body


def test_review_rules_render_and_the_audit_says_so(api: ApiClient) -> None:
    body = render_body(new_project(), prompts={"task": "create", "instruction":
                       'Sunscreen ad "Approved by the FDA" for summer'})
    response = api.request("POST", "/render", body)
    assert response.status == 200, response.body
    assert any("impersonation.brands" in note for note in response.json()["audit"]["notes"])


# -- canon ----------------------------------------------------------------------------------------------------------
def test_a_conflict_with_the_canon_is_a_422_listing_each_conflict(runtime: Any, api: ApiClient) -> None:
    project = new_project()
    with_canon(runtime, "acme", project)
    body = render_body(project, constraints={"palette_hex": ["#123456", "#ff00ff"], "fonts": ["Comic Sans"],
                                             "logo_safe_zone_pct": 2})
    response = api.request("POST", "/render", body)
    assert response.status == 422
    error = response.json()["error"]
    assert error["code"] == "canon_conflict"
    assert error["details"]["canon_version"] == 1
    assert [(c["value"], c["reason"]) for c in error["details"]["conflicts"]] == [
        ("#123456", "not in the canon palette"), ("#FF00FF", "forbidden by the canon"),
        ("Comic Sans", "not a canon font"), (2, "below the canon's logo clear space of 8%")]


def test_override_renders_and_the_audit_records_it(runtime: Any, api: ApiClient) -> None:
    project = new_project()
    with_canon(runtime, "acme", project)
    body = render_body(project, constraints={"palette_hex": ["#123456", "#FAFAFA"], "override": True})
    response = api.request("POST", "/render", body)
    assert response.status == 200, response.body
    audit = response.json()["audit"]
    assert any(note.startswith("override:") and "#123456" in note for note in audit["notes"])
    colors = set(response.json()["assets"][0]["layout"]["colors_used"])
    assert colors <= {"#123456", "#FAFAFA"} | set(CANON["palette_hex"])


def test_without_a_canon_or_constraints_the_neutral_default_is_used_and_said(api: ApiClient) -> None:
    response = api.request("POST", "/render", render_body(new_project()))
    assert response.status == 200, response.body
    body = response.json()
    assert any("neutral default palette" in note for note in body["audit"]["notes"])
    assert set(body["assets"][0]["layout"]["colors_used"]) <= {"#FFFFFF", "#111111", "#4B5563"}


# -- a stored render ------------------------------------------------------------------------------------------------
def test_a_sync_render_is_stored_recorded_and_fetchable(runtime: Any, api: ApiClient) -> None:
    project = new_project()
    with_canon(runtime, "acme", project, CANON | {"fonts": ["Brand Serif"]}, logo=True, font_family="Brand Serif")
    body = render_body(project, outputs={"count": 2, "format": "webp", "dimensions": "400x300"})
    response = api.request("POST", "/render", body)
    assert response.status == 200, response.body
    result = response.json()
    render_id = result["render_id"]
    assert [asset["id"] for asset in result["assets"]] == [f"{render_id}-0", f"{render_id}-1"]
    audit = result["audit"]
    assert audit["cache"] == "miss"
    assert audit["verified_by"] == "none"
    assert audit["guardrails_ok"] is True
    assert audit["model_route"] == ["local/planner", "local/compositor"]
    assert audit["trace_id"] == response.headers["x-request-id"]
    assert audit["plan"]["layout"]["headline"] == "Fresh roast, every morning"
    assert audit["font_substitutions"] == []
    assets = AssetRecords(runtime_adapters(runtime).assets_table)
    tenant = Tenant("acme", project)
    layouts = []
    for index, asset in enumerate(result["assets"]):
        assert asset["synthid"] == {"present": False, "payload": None}
        key = tenant.render_key(render_id, index, "webp")
        data, content_type = s3_object(runtime, key)
        assert content_type == "image/webp"
        with Image.open(io.BytesIO(data)) as image:
            assert (image.format, image.size) == ("WEBP", (400, 300))
        with urllib.request.urlopen(asset["url"], timeout=5) as fetched:
            assert fetched.read() == data
        record = assets.get(tenant, asset["id"])
        assert record is not None
        assert record.layout is not None
        assert (record.kind, record.key, record.format, record.width, record.height,
                record.render_id) == ("render", key, "webp", 400, 300, render_id)
        assert record.layout["logo_box"] is not None  # the canon's logo is composited
        assert {box["font"] for box in record.layout["text_boxes"]} == {"Brand Serif"}
        assert [(b["role"], b["text"], b["box"]) for b in record.layout["text_boxes"]] == [
            (b["role"], b["text"], b["box"]) for b in asset["layout"]["text_boxes"]]
        layouts.append(record.layout)
    assert layouts[0]["variant"] != layouts[1]["variant"]


def test_a_variations_render_without_a_reference_is_a_422(api: ApiClient) -> None:
    body = render_body(new_project(), prompts={"task": "variations", "instruction": "Three takes on the post"})
    response = api.request("POST", "/render", body)
    assert response.status == 422
    assert response.json()["error"]["code"] == "reference_required"


def test_references_must_be_this_projects_assets_or_allowed_urls(runtime: Any, api: ApiClient,
                                                                  api_other_org: ApiClient) -> None:
    project = new_project()
    with_canon(runtime, "acme", project, logo=True)  # asset logo1 in acme's project
    edit = {"task": "edit", "instruction": "Put the logo on a calm background", "references": ["logo1"]}
    mine = api.request("POST", "/render", render_body(project, prompts=edit))
    assert mine.status == 200, mine.body
    assert any("first reference (logo1)" in note for note in mine.json()["audit"]["notes"])
    theirs = api_other_org.request("POST", "/render", render_body(project, prompts=edit))
    assert theirs.status == 404
    assert theirs.json()["error"]["details"]["asset_id"] == "logo1"
    refused = api.request("POST", "/render", render_body(project, prompts=edit | {
        "references": ["https://127.0.0.1/secret.png"]}))
    assert refused.status == 422
    assert refused.json()["error"]["code"] == "reference_refused"


def test_a_webhook_url_that_fails_the_ssrf_guard_is_a_422(api: ApiClient) -> None:
    for url in ("http://example.com/hook", "https://169.254.169.254/latest", "https://10.0.0.7/hook"):
        response = api.request("POST", "/render", render_body(new_project(), webhook_url=url) | {"async": True})
        assert response.status == 422, (url, response.body)
        assert response.json()["error"]["code"] == "webhook_refused"


def test_a_webhook_url_whose_host_does_not_resolve_is_a_422_not_a_500(api: ApiClient) -> None:
    for run_async in (True, False):
        response = api.request("POST", "/render", render_body(
            new_project(), webhook_url="https://nonexistent.invalid/hook") | {"async": run_async})
        assert response.status == 422, response.body
        error = response.json()["error"]
        assert error["code"] == "webhook_unreachable"
        assert error["details"]["field"] == "body.webhook_url"
        assert error["details"]["code"] == "dns_failed"
        assert "nonexistent.invalid" in error["details"]["reason"]
        assert "nonexistent.invalid" in error["message"]


# -- idempotency ----------------------------------------------------------------------------------------------------
def test_an_idempotency_key_replays_and_refuses_another_body(api: ApiClient, api_other_org: ApiClient) -> None:
    key = {"idempotency-key": f"k-{uuid.uuid4().hex}"}
    body = render_body(new_project())
    first = api.request("POST", "/render", body, headers=key)
    assert first.status == 200, first.body
    assert first.headers["idempotent-replayed"] == "false"
    again = api.request("POST", "/render", json.loads(json.dumps(body)), headers=key)
    assert again.status == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["render_id"] == first.json()["render_id"]
    assert again.json()["audit"] == first.json()["audit"]
    other = api.request("POST", "/render", body | {"outputs": {"count": 2}}, headers=key)
    assert other.status == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    elsewhere = api_other_org.request("POST", "/render", body, headers=key)  # the same key in another org
    assert elsewhere.status == 200
    assert elsewhere.headers["idempotent-replayed"] == "false"
    assert elsewhere.json()["render_id"] != first.json()["render_id"]


def test_async_acceptance_replays_its_202(api: ApiClient) -> None:
    key = {"idempotency-key": f"k-{uuid.uuid4().hex}", "prefer": "respond-async"}
    body = render_body(new_project())
    first = api.request("POST", "/render", body, headers=key)
    again = api.request("POST", "/render", body, headers=key)
    assert first.status == again.status == 202
    assert again.headers["location"] == first.headers["location"]
    assert again.json() == first.json()


def test_a_duplicate_while_the_first_is_in_progress_is_a_409(runtime: Any, api: ApiClient) -> None:
    from sgd.adapters.idempotency import dynamodb_persistence
    from sgd.contracts.render import RenderRequest
    from sgd.critique.policy import load_critique_policy
    from sgd.render.cache import normalised_request
    from sgd.render.idempotency import KEY_PREFIX, idempotency_config, idempotency_payload
    from sgd.render.service import idempotency_body

    key = f"k-{uuid.uuid4().hex}"
    body = render_body(new_project())
    persistence = dynamodb_persistence("IdempotencyTable", runtime.aws.client)  # as another instance has it
    persistence.configure(config=idempotency_config(), function_name="another-instance", key_prefix=KEY_PREFIX)
    request = normalised_request(RenderRequest.model_validate(body),
                                 auto_repair_default=load_critique_policy().auto_repair_default)
    payload = idempotency_payload("acme", key, idempotency_body(request, None, False))
    with pytest.warns(UserWarning, match="remaining time"):  # that other instance's deadline is unknown here
        persistence.save_inprogress(data=payload)
    response = api.request("POST", "/render", body, headers={"idempotency-key": key})
    assert response.status == 409
    assert response.json()["error"]["code"] == "request_in_progress"
    assert response.headers["retry-after"] == "1"


# -- the plan and render cache, with a provider key -------------------------------------------------------------
@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """A runtime whose functions have a provider key, pointed at a fake OpenRouter that counts requests."""
    from bench.support.fake_openrouter import FakeOpenRouter, Reply
    from sgd_local.runtime import LocalRuntime, RuntimeOptions

    plan = {"goal": "A square launch post with the headline", "ops": ["text_overlay"],
            "safety": {"respect_logo_safe_zone": True, "palette_only": True},
            "layout": {"template": "hero", "headline": "Fresh roast, every morning", "cta": "Order now",
                       "background_hex": "#0B3D2E", "text_hex": "#F2E8CF", "logo_position": "top-left",
                       "imagery_prompt": "Coffee beans on a table"}}
    imagery = io.BytesIO()
    Image.new("RGB", (320, 320), "#E07A5F").save(imagery, "PNG")
    with FakeOpenRouter() as fake:
        fake.respond_with(lambda request: Reply.image(imagery.getvalue()) if "modalities" in request.body
                          else Reply.json(plan))
        options = RuntimeOptions(data_dir=tmp_path_factory.mktemp("sgd-keyed"), persist=False, throttle=False,
                                 environment={
            "OPENROUTER_API_KEY": "sk-test", "OPENROUTER_BASE_URL": fake.base_url})
        with LocalRuntime(options, root=ROOT) as runtime:
            yield runtime, fake


def test_an_identical_request_is_served_from_the_cache_with_no_model_call(keyed: tuple[Any, Any]) -> None:
    runtime, fake = keyed
    api = ApiClient(runtime)
    project = new_project()
    with_canon(runtime, "acme", project, logo=True)
    body = render_body(project)
    first = api.request("POST", "/render", body)
    assert first.status == 200, first.body
    audit = first.json()["audit"]
    assert audit["cache"] == "miss"
    assert audit["model_route"] == ["openai/gpt-4o-mini", "google/gemini-2.5-flash-image"]
    assert audit["cost_usd"] > 0
    image_prompt = next(r for r in fake.requests if "modalities" in r.body).body["messages"][0]["content"]
    assert "calm" in image_prompt
    provider_requests = len(fake.requests)

    respelled = json.loads(json.dumps(body))
    respelled["prompts"]["instruction"] = "  " + body["prompts"]["instruction"].replace(" ", "  ") + "\n"
    second = api.request("POST", "/render", respelled)
    assert second.status == 200, second.body
    assert len(fake.requests) == provider_requests  # zero model calls
    replay = second.json()
    assert replay["render_id"] == first.json()["render_id"]  # zero re-renders: the stored assets
    assert replay["audit"]["cache"] == "hit"
    assert replay["audit"]["model_route"] == []
    assert replay["audit"]["cost_usd"] == 0
    assert replay["audit"]["plan"] == audit["plan"]
    with urllib.request.urlopen(replay["assets"][0]["url"], timeout=5) as fetched:
        assert fetched.status == 200

    changed = api.request("POST", "/render", body | {"outputs": {"count": 1, "format": "jpg",
                                                                   "dimensions": "320x320"}})
    assert changed.json()["audit"]["cache"] == "miss"
    assert len(fake.requests) > provider_requests


def test_a_render_the_budget_cannot_hold_is_refused_before_any_provider_call(keyed: tuple[Any, Any]) -> None:
    """The render's worst case (plan + image + a re-plan per repair attempt, at the policy's caps) is held before its
    first paid call: with room for one render only, the second is a 429 and reaches no provider."""
    from sgd.model_gateway.budget import UsageAccounting

    runtime, fake = keyed
    org = f"budget{uuid.uuid4().hex[:8]}"
    api = ApiClient(runtime, org=org)
    hold = 0.02 + 0.08 + 2 * 0.02  # planner, image, and max_attempts (2) re-plans for count 1, at the caps
    accounting = UsageAccounting.over(runtime_adapters(runtime).usage_table, daily_limit_usd=5)
    run_coroutine(accounting.set_org_limit(org, hold + 0.01))
    first = api.request("POST", "/render", render_body(new_project()))
    assert first.status == 200, first.body
    provider_requests = len(fake.requests)
    second = api.request("POST", "/render", render_body(new_project()))
    assert second.status == 429, second.body
    error = second.json()["error"]
    assert error["code"] == "budget_exceeded"
    assert error["details"]["needed_usd"] == pytest.approx(hold)
    assert "retry-after" in second.headers
    assert len(fake.requests) == provider_requests  # refused before any provider call
    budget = api.request("GET", "/usage").json()["budget"]
    assert budget["reserved_usd"] == 0  # the served render gave back what it did not use
    assert budget["spent_usd"] <= budget["limit_usd"]


def test_a_provider_billing_over_its_cap_stops_the_orgs_calls(keyed: tuple[Any, Any]) -> None:
    """The image call is billed $0.50 against its $0.08 cap: the paid render is kept, the bill is recorded, and the
    org's next render is refused before any provider call, saying how calls resume."""
    from bench.support.fake_openrouter import Reply

    runtime, fake = keyed
    api = ApiClient(runtime, org=f"overcap{uuid.uuid4().hex[:8]}")
    handler = fake.handler  # the fixture's replies, restored below
    assert handler is not None
    imagery = io.BytesIO()
    Image.new("RGB", (96, 96), "#E07A5F").save(imagery, "PNG")
    fake.respond_with(lambda request: Reply.image(imagery.getvalue(), cost=0.50) if "modalities" in request.body
                      else handler(request))
    try:
        first = api.request("POST", "/render", render_body(new_project()))
        assert first.status == 200, first.body
        provider_requests = len(fake.requests)
        second = api.request("POST", "/render", render_body(new_project()))
    finally:
        fake.respond_with(handler)
    assert second.status == 429, second.body
    error = second.json()["error"]
    assert error["code"] == "budget_halted"
    assert "raises the org's daily limit" in error["message"]
    assert len(fake.requests) == provider_requests
    budget = api.request("GET", "/usage").json()["budget"]
    assert budget["halted"] is True
    assert budget["over_cap_usd"] == pytest.approx(0.42)
    assert budget["reserved_usd"] == 0
