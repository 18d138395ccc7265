from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from sgd.contracts.canon import Canon
from sgd.contracts.critique import CritiqueRequest
from sgd.contracts.ingest import IngestRequest, UploadRequest
from sgd.contracts.render import RenderRequest, parse_dimensions


def render_request(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"project_id": "spring", "prompts": {"task": "create", "instruction": "Make a banner"},
                            "outputs": {"count": 1, "format": "png", "dimensions": "1200x628"}}
    for path, value in changes.items():
        target = body
        *parents, leaf = path.split("__")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return body


def test_minimal_render_request_gets_defaults() -> None:
    request = RenderRequest.model_validate({"project_id": "p", "prompts": {"task": "edit", "instruction": "hello"}})
    assert (request.outputs.count, request.outputs.format, request.outputs.dimensions) == (1, "png", "1080x1080")
    assert request.run_async is False
    assert request.constraints is None


@pytest.mark.parametrize(("change", "value"), [
    ("project_id", ""), ("project_id", "a" * 65), ("project_id", "has space"),
    ("prompts__task", "remix"), ("prompts__instruction", "four"), ("prompts__instruction", "x" * 2001),
    ("prompts__references", ["a"] * 9), ("prompts__references", ["http://plain.example/x.png"]),
    ("outputs__count", 0), ("outputs__count", 7), ("outputs__format", "gif"),
    ("outputs__dimensions", "31x100"), ("outputs__dimensions", "4097x64"), ("outputs__dimensions", "100"),
    ("constraints__palette_hex", ["#000000"] * 13), ("constraints__palette_hex", ["red"]),
    ("constraints__fonts", ["Inter"] * 7), ("constraints__logo_safe_zone_pct", 40.5),
    ("constraints__logo_safe_zone_pct", -1),
    ("surprise", True),
])
def test_every_render_limit_is_enforced(change: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        RenderRequest.model_validate(render_request(**{change: value}))


@pytest.mark.parametrize(("change", "value"), [
    ("prompts__instruction", "x" * 5), ("prompts__instruction", "x" * 2000), ("prompts__references", ["a"] * 8),
    ("outputs__count", 6), ("outputs__dimensions", "64x64"), ("outputs__dimensions", "4096x4096"),
    ("constraints__palette_hex", ["#A1b2C3"] * 12), ("constraints__fonts", ["Inter"] * 6),
    ("constraints__logo_safe_zone_pct", 40), ("webhook_url", "https://hooks.example/render"),
    ("async", True),
])
def test_limits_are_inclusive(change: str, value: Any) -> None:
    RenderRequest.model_validate(render_request(**{change: value}))


def test_area_limit() -> None:
    assert parse_dimensions("4096x4096") == (4096, 4096)  # exactly 16,777,216 px
    with pytest.raises(ValueError, match="each side"):
        parse_dimensions("4097x4095")


def test_other_route_limits() -> None:
    with pytest.raises(ValidationError):
        IngestRequest.model_validate({"project_id": "p", "assets": ["a"] * 51})
    with pytest.raises(ValidationError):
        IngestRequest.model_validate({"project_id": "p", "assets": []})
    with pytest.raises(ValidationError):
        CritiqueRequest.model_validate({"project_id": "p", "asset_ids": ["a"] * 11})
    with pytest.raises(ValidationError):
        UploadRequest.model_validate({"project_id": "p", "filename": "../x", "content_type": "application/pdf",
                                      "size_bytes": 3})
    with pytest.raises(ValidationError, match="palette_hex"):
        Canon.model_validate({"palette_hex": ["#000000"], "fonts": ["Inter"], "voice": {"tone": "warm"}})


@given(low=st.integers(0, 5000), span=st.integers(0, 5000), number=st.integers(0, 20000))
def test_an_integer_range_pattern_matches_exactly_its_range(low: int, span: int, number: int) -> None:
    import re

    from sgd.contracts.render import integer_range_pattern

    pattern = re.compile(f"^(?:{integer_range_pattern(low, low + span)})$")
    assert bool(pattern.match(str(number))) == (low <= number <= low + span)
    assert not pattern.match(f"0{number}")  # no leading zeros


@given(width=st.integers(0, 10_000), height=st.integers(0, 10_000))
def test_the_published_dimensions_schema_agrees_with_validation(width: int, height: int) -> None:
    import re

    from sgd.contracts.render import DIMENSIONS_SCHEMA, RenderOutputs, parse_dimensions

    schema = RenderOutputs.model_json_schema()["properties"]["dimensions"]
    assert schema["pattern"] == DIMENSIONS_SCHEMA["pattern"]
    value = f"{width}x{height}"
    try:
        parse_dimensions(value)
        valid = True
    except ValueError:
        valid = False
    assert bool(re.match(schema["pattern"], value)) == valid
