import json

import pytest
from jsonschema import Draft202012Validator
from sgd.errors import ValidationFailed
from sgd.guardrails import CONTRACTS, contract_errors, validate_contract
from sgd.resources import load_json, resource_root


@pytest.mark.parametrize(("kind", "name"), [*(("guardrails", name) for name in CONTRACTS),
                                            ("policies", "openrouter_policy.schema.json"),
                                            ("policies", "critique_policy.schema.json")])
def test_schemas_are_valid_draft_2020_12(kind: str, name: str) -> None:
    Draft202012Validator.check_schema(load_json(kind, name))


def test_render_plan_contract() -> None:
    plan = {"goal": "A launch banner", "ops": ["text_overlay"],
            "safety": {"respect_logo_safe_zone": True, "palette_only": True}}
    assert contract_errors("render_plan.json", plan) == []
    bad = {"goal": "X", "ops": ["invalid_operation"], "safety": {}}
    errors = contract_errors("render_plan.json", bad)
    assert any(e.startswith("goal:") for e in errors)
    assert any(e.startswith("ops/0:") for e in errors)
    assert any("respect_logo_safe_zone" in e for e in errors)


def test_canon_contract_needs_two_colours_a_font_and_a_tone() -> None:
    with pytest.raises(ValidationFailed) as raised:
        validate_contract("canon.json", {"palette_hex": ["#112233"], "fonts": [], "voice": {}})
    assert raised.value.status_code == 422
    assert raised.value.code == "guardrails_error"
    assert len(raised.value.details["errors"]) == 3


def test_critique_contract() -> None:
    validate_contract("critique.json", {"score": 0.5, "violations": [{"kind": "palette", "message": "off"}],
                                        "repair_suggestions": ["use #112233"]})
    assert contract_errors("critique.json", {"score": 2, "violations": [], "repair_suggestions": []})


def test_policies_are_well_formed_json() -> None:
    for path in (resource_root() / "policies").glob("*.json"):
        assert isinstance(json.loads(path.read_text()), dict)
    policy = load_json("policies", "openrouter_policy.json")
    assert set(policy["tasks"]) == {"planner", "canon", "critic", "image"}
    assert policy["local_fallback"] is False
