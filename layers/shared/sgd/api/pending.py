"""The honest answer of a route whose contract exists but whose pipeline is not built yet."""

from __future__ import annotations

from typing import NoReturn

from sgd.errors import NotImplementedYet


def pipeline_not_built(route: str) -> NoReturn:
    raise NotImplementedYet(
        f"{route} validated your request, but its pipeline is not available in this release",
        details={"route": route, "input_valid": True},
    )
