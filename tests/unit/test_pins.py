"""Development installs what Lambda gets: the dev requirements repeat the imaging layer's pins."""

import re

from tests.conftest import ROOT


def pins(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9_.\[\]-]+)==([^;\s]+)(\s*;\s*(.*))?$", line.strip())
        if match and (not match[4] or ">=" in match[4]):  # the pin for Python 3.12, the Lambda runtime
            found[match[1].lower()] = match[2]
    return found


def test_dev_requirements_match_the_imaging_layer() -> None:
    layer = pins((ROOT / "layers" / "imaging" / "requirements.txt").read_text())
    dev = pins((ROOT / "requirements-dev.txt").read_text())
    assert layer
    assert {name: dev.get(name) for name in layer} == layer
