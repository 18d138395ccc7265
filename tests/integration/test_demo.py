"""The main job (`make demo`) end to end: ingest the kit, derive its canon, render, critique, write pictures and a
report."""

import json
from pathlib import Path

import pytest
from PIL import Image

from sgd_local.demo import BRAND, EXTERNAL_DESIGNS, GALLERY_BRANDS, GALLERY_SIZES, RENDERS, run_demo
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def test_the_demo_ingests_derives_renders_and_reports(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    assert run_demo(out_dir=out_dir, data_dir=tmp_path / "state") == 0

    designs = sorted(path for path in (out_dir / "designs").iterdir()
                     if not path.name.startswith(("external-", "gallery-")))
    assert [Image.open(path).size for path in designs] == [
        tuple(int(side) for side in dimensions.split("x")) for dimensions, _, _ in RENDERS]

    steps = json.loads((out_dir / "steps.json").read_text())
    assert not [step for step in steps if step["status"] >= 500]
    by_title = {step["title"]: step for step in steps}
    truth = json.loads((ROOT / "examples" / "brands" / BRAND / "truth.json").read_text())
    canon = by_title["Canon derived from the evidence"]["body"]["canon"]
    assert [color.upper() for color in canon["palette_hex"]] == truth["palette_hex"]
    assert canon["forbidden_hex"] == truth["forbidden_hex"]
    assert canon["fonts"] == truth["fonts"]
    assert "cache hit" in by_title["The same request again"]["summary"]
    assert by_title["Rejected upload stays in quarantine"]["body"]["status"] == "rejected"
    assert by_title["A constraint the canon forbids"]["status"] == 422

    # The gallery: each brand on the standard sizes, two seeds each, from its own derived canon.
    gallery = sorted(path for path in (out_dir / "designs").iterdir() if path.name.startswith("gallery-"))
    assert len(gallery) == len(GALLERY_BRANDS) * len(GALLERY_SIZES) * 2
    for path in gallery:
        dimensions = path.stem.split("-")[-2]
        assert Image.open(path).size == tuple(int(side) for side in dimensions.split("x"))
    templates = {brand: [step["summary"] for step in steps if step["title"] == "Gallery render"
                         and step["request"].endswith(f"({brand})")] for brand, _project in GALLERY_BRANDS}
    assert templates["northwind-coffee"] != templates["helio-energy"]  # two personalities, two sets of layouts

    report = (out_dir / "report.html").read_text()
    assert report.count("<figure>") == len(gallery)
    for color in truth["palette_hex"]:
        assert color.lower() in report.lower()
    assert report.count('<div class="card">') == len(RENDERS)

    critique = by_title["Critique (renders + the kit's example designs)"]
    assert critique["status"] == 200
    labels = json.loads((ROOT / "examples" / "brands" / BRAND / "critique" / "labels.json").read_text())
    by_name = {upload["filename"]: upload["asset_id"] for upload in
               (step["body"] for step in steps if step["title"].startswith("Ingested")) if upload.get("asset_id")}
    assets = {asset["asset_id"]: asset for asset in critique["body"]["assets"]}
    assert len(assets) == len(RENDERS) + len(EXTERNAL_DESIGNS)
    for name in EXTERNAL_DESIGNS:  # the labelled designs get exactly their labelled violations
        found = {violation["kind"] for violation in assets[by_name[name]]["violations"]}
        assert found == set(labels[name]["violations"]), name
    renders = [asset for asset_id, asset in assets.items() if asset_id not in by_name.values()]
    assert [asset["score"] for asset in renders] == [1.0] * len(RENDERS)  # SGD's own renders pass
    annotated = sorted((out_dir / "critiques").iterdir())
    assert len(annotated) == len(assets)
    assert all(Image.open(path).format == "JPEG" for path in annotated)
    assert report.count('<div class="pair">') == len(assets)
