"""The main job (`make demo`) end to end: ingest the kit, derive its canon, render, write pictures and a report."""

import json
from pathlib import Path

import pytest
from PIL import Image

from sgd_local.demo import BRAND, RENDERS, run_demo
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def test_the_demo_ingests_derives_renders_and_reports(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    assert run_demo(out_dir=out_dir, data_dir=tmp_path / "state") == 0

    designs = sorted((out_dir / "designs").iterdir())
    assert [Image.open(path).size for path in designs] == [
        tuple(int(side) for side in dimensions.split("x")) for dimensions, _, _ in RENDERS]

    steps = json.loads((out_dir / "steps.json").read_text())
    assert not [step for step in steps if step["status"] >= 500 and step["status"] != 501]
    by_title = {step["title"]: step for step in steps}
    truth = json.loads((ROOT / "examples" / "brands" / BRAND / "truth.json").read_text())
    canon = by_title["Canon derived from the evidence"]["body"]["canon"]
    assert [color.upper() for color in canon["palette_hex"]] == truth["palette_hex"]
    assert canon["forbidden_hex"] == truth["forbidden_hex"]
    assert canon["fonts"] == truth["fonts"]
    assert "cache hit" in by_title["The same request again"]["summary"]
    assert by_title["Rejected upload stays in quarantine"]["body"]["status"] == "rejected"
    assert by_title["A constraint the canon forbids"]["status"] == 422

    report = (out_dir / "report.html").read_text()
    for color in truth["palette_hex"]:
        assert color.lower() in report.lower()
    assert report.count('<div class="card">') == len(RENDERS)
