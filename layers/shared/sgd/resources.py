"""Locates the JSON contracts (guardrails/) and policies (policies/) in the layer or the repository."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parent


@functools.cache
def resource_root() -> Path:
    """The folder holding guardrails/ and policies/: the layer copy first, then the repository root."""
    override = os.environ.get("SGD_RESOURCES_DIR")
    candidates = [Path(override)] if override else []
    candidates += [_PACKAGE_DIR / "_resources", _PACKAGE_DIR.parents[2]]
    for candidate in candidates:
        if (candidate / "guardrails").is_dir() and (candidate / "policies").is_dir():
            return candidate
    raise FileNotFoundError(f"guardrails/ and policies/ not found in any of {[str(c) for c in candidates]}")


@functools.cache
def load_json(kind: str, name: str) -> Any:
    """Loads guardrails/<name> or policies/<name> once per process."""
    if kind not in ("guardrails", "policies"):
        raise ValueError(f"unknown resource kind {kind!r}")
    return json.loads((resource_root() / kind / name).read_text(encoding="utf-8"))
