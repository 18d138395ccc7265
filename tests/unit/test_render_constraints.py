"""Request constraints against the canon: narrowing is fine, leaving the canon is a conflict unless overridden."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sgd.contracts.render import RenderRequest
from sgd.design.planner import NEUTRAL_PALETTE
from sgd.render.cache import normalised_request, plan_cache_key
from sgd.render.constraints import resolve_constraints
from sgd.tenancy import Tenant

CANON = {"palette_hex": ["#0B3D2E", "#F2E8CF", "#E07A5F", "#FFFFFF"], "forbidden_hex": ["#FF00FF"],
         "fonts": ["Inter", "Open Sans"], "logo_safe_zone_pct": 8, "voice": {"tone": "warm"}}


def test_narrowing_the_canon_is_allowed_and_case_insensitive() -> None:
    resolved = resolve_constraints(CANON, {"palette_hex": ["#e07a5f", "#ffffff"], "fonts": ["open  sans"],
                                           "logo_safe_zone_pct": 12})
    assert not resolved.blocking
    assert resolved.conflicts == ()
    assert resolved.palette == ("#E07A5F", "#FFFFFF")
    assert resolved.fonts == ("Open Sans",)  # the canon's spelling
    assert resolved.logo_safe_zone_pct == 12
    assert resolved.source == "canon"


def test_each_kind_of_conflict_is_listed() -> None:
    resolved = resolve_constraints(CANON, {"palette_hex": ["#123456", "#ff00ff", "#0B3D2E"], "fonts": ["Comic Sans"],
                                           "logo_safe_zone_pct": 4})
    assert resolved.blocking
    assert [c.as_details() for c in resolved.conflicts] == [
        {"field": "constraints.palette_hex", "value": "#123456", "reason": "not in the canon palette"},
        {"field": "constraints.palette_hex", "value": "#FF00FF", "reason": "forbidden by the canon"},
        {"field": "constraints.fonts", "value": "Comic Sans", "reason": "not a canon font"},
        {"field": "constraints.logo_safe_zone_pct", "value": 4.0,
         "reason": "below the canon's logo clear space of 8%"},
    ]


def test_override_uses_the_request_but_never_a_forbidden_colour() -> None:
    resolved = resolve_constraints(CANON, {"palette_hex": ["#123456", "#FF00FF"], "fonts": ["Comic Sans"],
                                           "logo_safe_zone_pct": 4, "override": True})
    assert resolved.overridden
    assert not resolved.blocking
    assert "#123456" in resolved.palette
    assert "#FF00FF" not in resolved.palette
    assert resolved.fonts == ("Comic Sans",)
    assert resolved.logo_safe_zone_pct == 4
    assert resolved.notes[0].startswith("override: ")
    assert "#FF00FF" in resolved.notes[1]


def test_without_constraints_the_canon_applies() -> None:
    resolved = resolve_constraints(CANON, None)
    assert resolved.palette[0] == "#0B3D2E"
    assert "#FF00FF" not in resolved.palette
    assert resolved.fonts == ("Inter", "Open Sans")
    assert resolved.logo_safe_zone_pct == 8


def test_without_a_canon_the_request_applies_else_the_neutral_default() -> None:
    requested = resolve_constraints(None, {"palette_hex": ["#101010", "#FAFAFA"], "fonts": ["Lora"]})
    assert requested.palette == ("#101010", "#FAFAFA")
    assert requested.fonts == ("Lora",)
    assert requested.source == "request"
    assert not requested.conflicts
    neutral = resolve_constraints(None, None)
    assert neutral.palette == NEUTRAL_PALETTE
    assert neutral.source == "neutral"
    assert "neutral default palette" in neutral.notes[0]


@given(st.lists(st.sampled_from(CANON["palette_hex"] + ["#123456", "#FF00FF", "#abcdef"]), max_size=12),
       st.booleans())
def test_the_palette_never_holds_a_forbidden_colour_and_stays_in_the_canon_unless_overridden(
        colours: list[str], override: bool) -> None:
    resolved = resolve_constraints(CANON, {"palette_hex": colours, "override": override})
    assert "#FF00FF" not in resolved.palette
    assert len(resolved.palette) >= 2
    outside = {c.upper() for c in colours} - {c.upper() for c in CANON["palette_hex"]}
    assert resolved.blocking == (bool(outside) and not override)
    if not override:
        assert set(resolved.palette) <= {c.upper() for c in CANON["palette_hex"]}


def normalised(request: RenderRequest) -> dict[str, Any]:
    return normalised_request(request, auto_repair_default=True)


def _request(**changes: object) -> RenderRequest:
    body = {"project_id": "p1", "prompts": {"task": "create", "instruction": "Spring  sale   post"},
            "outputs": {"count": 1, "format": "png", "dimensions": "1080x1080"},
            "constraints": {"palette_hex": ["#0b3d2e"], "fonts": ["Inter"]}}
    return RenderRequest.model_validate(body | changes)


def test_the_cache_key_ignores_spelling_but_not_output_changing_fields() -> None:
    tenant = Tenant("acme", "p1")

    def key(request: RenderRequest, version: int | None = 1, org: str = "acme") -> str:
        return plan_cache_key(Tenant(org, "p1"), version, "local", normalised(request), [], "policy")

    base = key(_request())
    respelled = _request(prompts={"instruction": " Spring sale\npost ", "task": "create"},
                         constraints={"fonts": [" Inter "], "palette_hex": ["#0B3D2E"]})
    assert key(respelled) == base
    assert key(_request(webhook_url="https://example.com/hook")) == base  # does not change the output
    for changed in (_request(outputs={"count": 2}), _request(outputs={"format": "jpg"}),
                    _request(prompts={"task": "create", "instruction": "Summer sale post"}),
                    _request(constraints={"palette_hex": ["#0b3d2e"], "fonts": ["Inter"], "override": True})):
        assert key(changed) != base
    assert key(_request(), version=2) != base
    assert key(_request(), org="globex") != base
    assert plan_cache_key(tenant, 1, "openrouter", normalised(_request()), [], "policy") != base
