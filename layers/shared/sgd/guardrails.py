"""Validates model outputs against the JSON Schema contracts in guardrails/."""

from __future__ import annotations

import functools
from typing import Any

from sgd.errors import ValidationFailed
from sgd.resources import load_json

CONTRACTS = ("render_plan.json", "canon.json", "critique.json")


@functools.cache
def _validator(kind: str, name: str) -> Any:
    # jsonschema costs ~90 ms to import: only code paths that validate a document pay for it.
    from jsonschema import Draft202012Validator, FormatChecker

    # No check_schema here (~20 ms): the schemas ship with the code, and a unit test checks each against the
    # 2020-12 metaschema.
    return Draft202012Validator(load_json(kind, name), format_checker=FormatChecker())


def schema_errors(kind: str, schema_name: str, document: Any) -> list[str]:
    """Every violation of <kind>/<schema_name> (a JSON Schema), as 'path: message' lines (empty when valid)."""
    errors = sorted(_validator(kind, schema_name).iter_errors(document), key=lambda error: list(error.absolute_path))
    return [f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}" for error in errors]


def contract_errors(name: str, document: Any) -> list[str]:
    """Every violation of guardrails/<name>, as 'path: message' lines (empty when valid)."""
    if name not in CONTRACTS:
        raise ValueError(f"unknown contract {name!r}; expected one of {CONTRACTS}")
    return schema_errors("guardrails", name, document)


class GuardrailsError(ValidationFailed):
    code = "guardrails_error"


def validate_contract(name: str, document: Any) -> None:
    """Raises GuardrailsError (422) listing every violation when the document breaks its contract."""
    errors = contract_errors(name, document)
    if errors:
        raise GuardrailsError(f"output does not satisfy guardrails/{name}", details={"errors": errors})
