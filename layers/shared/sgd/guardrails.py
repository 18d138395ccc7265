"""Validates model outputs against the JSON Schema contracts in guardrails/."""

from __future__ import annotations

import functools
from typing import Any

from sgd.errors import ValidationFailed
from sgd.resources import load_json

CONTRACTS = ("render_plan.json", "canon.json", "critique.json")


@functools.cache
def _validator(name: str) -> Any:
    # jsonschema costs ~150 ms to import: only paths that validate model output pay for it.
    from jsonschema import Draft202012Validator, FormatChecker

    schema = load_json("guardrails", name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def contract_errors(name: str, document: Any) -> list[str]:
    """Every violation of guardrails/<name>, as 'path: message' lines (empty when valid)."""
    if name not in CONTRACTS:
        raise ValueError(f"unknown contract {name!r}; expected one of {CONTRACTS}")
    errors = sorted(_validator(name).iter_errors(document), key=lambda error: list(error.absolute_path))
    return [f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}" for error in errors]


class GuardrailsError(ValidationFailed):
    code = "guardrails_error"


def validate_contract(name: str, document: Any) -> None:
    """Raises GuardrailsError (422) listing every violation when the document breaks its contract."""
    errors = contract_errors(name, document)
    if errors:
        raise GuardrailsError(f"output does not satisfy guardrails/{name}", details={"errors": errors})
