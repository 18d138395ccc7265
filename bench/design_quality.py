"""Design quality: what a brand's own designer would check, measured on the offline design engine's renders.

    python -m bench.design_quality [--out bench/results] [--seeds 6] [--no-ocr] [--sheets]

Kits: the example brands (examples/brands/*: truth.json, logo.png) and generated kits with other voices, colour
rules and imagery (a calm bank with a CTA-only colour and a 60/30/10 split, a playful games studio, a minimal
fashion label with brand photography and a never-background colour). Each kit is rendered on the standard ad and
social sizes under several seeds. Reported:

- structure: distinct layout templates per size across seeds; distinct templates overall; whether a calm and an
  energetic brand get different structures from the same instruction;
- colour roles: the CTA-only colour's pixels outside the call-to-action button (target 0), proportion rules
  (each colour's share within its stated range +-10 points), never-background colours under no copy;
- personality fit: edge density and colour regions of calm brands against energetic ones (target: calm < energetic);
- legibility: OCR word recall per text element (target >= 0.95; rapidocr in .venv-bench, see requirements-bench.txt;
  every element's type magnified to at least OCR_TYPE_PX before reading)
  and the WCAG contrast measured in the pixels of every text element (target: >= its threshold; CTA >= 4.5);
- logo: present on every standard size at or above its minimum width, clear of edges and copy by its clear space;
  drawn as it is, as a one-colour knockout or on a plate; for a kit with two uploaded versions (light and dark),
  the version made for the background under it;
- imagery: the smart crop keeps >= 90 % of a marked subject box, on generated photographs with a known subject; and
  it keeps a drawn face and a line of text whole (or leaves them out whole), never cut, on generated pictures where a
  brighter subject competes for the crop (bench.support.photos).

Writes design_quality.json and design_quality.md to --out (and, with --sheets, contact sheets of the renders).
A measurement, not a gate: exit code 0 either way.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "shared"))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from sgd.design.color import contrast_ratio  # noqa: E402
from sgd.design.color_roles import text_threshold  # noqa: E402
from sgd.design.engine import DesignRequest, render_design  # noqa: E402
from sgd.design.geometry import Box, clearance, edge_clearance  # noqa: E402
from sgd.design.imagery import salient_centering  # noqa: E402
from sgd.design.layout import LOGO_MIN_LONG_SIDE  # noqa: E402
from sgd.design.planner import palette_in_use, rule_based_plan  # noqa: E402
from sgd.design.request import BrandLook, Design, LogoVersion  # noqa: E402

from bench.stats import percentiles  # noqa: E402
from bench.support.photos import covered_share, subject_photo  # noqa: E402

STANDARD_SIZES: tuple[tuple[str, int, int], ...] = (
    ("ad", 728, 90), ("ad", 300, 250), ("ad", 160, 600), ("ad", 300, 600), ("ad", 970, 250), ("ad", 320, 100),
    ("ad", 320, 50), ("social", 1080, 1080), ("social", 1080, 1350), ("social", 1080, 1920), ("social", 1200, 628),
    ("social", 1500, 500),
)
INSTRUCTION = 'Autumn launch: headline "Made for the long run", subline "New season, same promise", CTA: Shop now'
OCR_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
TARGET_RECALL = 0.95
OCR_TYPE_PX = 32  # type smaller than this is enlarged to it before OCR (upscaling adds no detail the render lacks)
TARGET_CROP_KEPT = 0.9
PROPORTION_TOLERANCE = 10.0


@dataclass
class Kit:
    name: str
    canon: dict[str, Any]
    logo: bytes | None
    imagery: bytes | None = None
    calm: bool | None = None  # True: a calm brand, False: an energetic one, None: neither (for personality fit)
    fonts: tuple[str, ...] = ("Liberation Sans",)
    logo_versions: tuple[LogoVersion, ...] = ()  # uploaded versions (light, dark): the one made for the background


def example_kits() -> list[Kit]:
    kits = []
    for folder in sorted((ROOT / "examples" / "brands").iterdir()):
        truth = folder / "truth.json"
        if not truth.is_file():
            continue
        canon = json.loads(truth.read_text(encoding="utf-8")) | {"logo_asset_id": "logo"}  # as derived from the kit
        logo = folder / "logo.png"
        kits.append(Kit(folder.name, canon, logo.read_bytes() if logo.is_file() else None,
                        fonts=tuple(canon.get("fonts") or ("Liberation Sans",))))
    return kits


def generated_logo(colour: str, shape: str) -> bytes:
    logo = Image.new("RGBA", (480, 160), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    if shape == "ring":
        draw.ellipse((8, 8, 152, 152), outline=colour, width=26)
    else:
        draw.polygon([(8, 152), (80, 8), (152, 152)], fill=colour)
    for index in range(3):  # a word mark: three bars of different lengths
        draw.rectangle((190, 30 + index * 42, 470 - index * 70, 56 + index * 42), fill=colour)
    buffer = io.BytesIO()
    logo.save(buffer, format="PNG")
    return buffer.getvalue()


def generated_kits() -> list[Kit]:
    bank = {"name": "Harbour Bank", "palette_hex": ["#0A2342", "#FFFFFF", "#E9EEF3", "#00A19A"], "forbidden_hex": [],
            "fonts": ["Liberation Serif", "Liberation Sans"],
            "voice": {"tone": "calm, trustworthy, professional", "dos": ["Be clear and precise"],
                      "donts": ["No exclamation marks", "No slang"]},
            "logo_safe_zone_pct": 8, "logo_asset_id": "logo",
            "usage_rules": [{"kind": "cta_only", "hex": "#00A19A", "statement": "Teal is for calls to action only"},
                            {"kind": "proportion", "hex": "#FFFFFF", "min_pct": 60, "max_pct": 60},
                            {"kind": "proportion", "hex": "#0A2342", "min_pct": 30, "max_pct": 30}]}
    games = {"name": "Pixel Riot", "palette_hex": ["#FF2D87", "#1B1464", "#FFE600", "#00E5FF", "#FFFFFF"],
             "forbidden_hex": [], "fonts": ["DejaVu Sans"],
             "voice": {"tone": "bold, playful, energetic, vibrant", "dos": ["Be fun and cheeky"],
                       "donts": ["Never be boring"]}, "logo_safe_zone_pct": 6, "logo_asset_id": "logo"}
    fashion = {"name": "Linea", "palette_hex": ["#111111", "#FAF7F2", "#C9B79C"], "forbidden_hex": [],
               "fonts": ["Liberation Serif"],
               "voice": {"tone": "minimal, refined, quiet", "dos": ["Keep it simple"], "donts": ["No clutter"]},
               "logo_safe_zone_pct": 10, "logo_min_width_px": 40, "logo_asset_id": "logo",
               "usage_rules": [{"kind": "never_background", "hex": "#C9B79C",
                                "statement": "Sand is never a background"}]}
    photo, _subject = subject_photo(7)
    return [Kit("harbour-bank (generated)", bank, generated_logo("#0A2342", "ring"), calm=True),
            # Two uploaded logo versions: navy for light backgrounds, white for dark ones.
            Kit("pixel-riot (generated)", games, generated_logo("#1B1464", "triangle"), calm=False,
                logo_versions=(LogoVersion(generated_logo("#1B1464", "triangle"), "light", "logo-navy"),
                               LogoVersion(generated_logo("#FFFFFF", "triangle"), "dark", "logo-white"))),
            # Photographs are edge-dense in every pixel: the imagery kit is left out of the density comparison.
            Kit("linea (generated, imagery)", fashion, generated_logo("#111111", "triangle"), imagery=photo,
                fonts=("Liberation Serif",))]


def render(kit: Kit, width: int, height: int, seed: int) -> tuple[Design, float]:
    request = {"prompts": {"task": "create", "instruction": INSTRUCTION, "references": []},
               "outputs": {"count": 1, "format": "png", "dimensions": f"{width}x{height}"}, "constraints": {}}
    plan = rule_based_plan(INSTRUCTION, kit.canon, request)  # type: ignore[arg-type]
    started = time.perf_counter()
    design = render_design(DesignRequest(
        plan=plan, width=width, height=height, format="png", palette=tuple(palette_in_use(kit.canon, request)),
        fonts=kit.fonts, logo=kit.logo, logo_safe_zone_pct=float(kit.canon.get("logo_safe_zone_pct", 10)), seed=seed,
        imagery=kit.imagery, look=BrandLook.of(kit.canon), logo_versions=kit.logo_versions))  # type: ignore[arg-type]
    return design, (time.perf_counter() - started) * 1000


# --- measurements ---------------------------------------------------------------------------------------------------


def pixels_of(design: Design) -> np.ndarray:
    assert design.image is not None
    return np.asarray(design.image.convert("RGB"))


def edge_density(rgb: np.ndarray) -> float:
    """Share of pixels on a colour edge (a neighbour differs): how busy the design reads."""
    packed = (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2]
    edges = np.zeros(packed.shape, dtype=bool)
    edges[:, 1:] |= packed[:, 1:] != packed[:, :-1]
    edges[1:, :] |= packed[1:, :] != packed[:-1, :]
    return float(edges.mean())


def colour_regions(rgb: np.ndarray, cell: int = 6) -> int:
    """Connected regions of one colour on a coarse grid (cell x cell px), regions under 4 cells not counted."""
    small = rgb[::cell, ::cell]
    packed = (small[..., 0].astype(np.int64) << 16) | (small[..., 1].astype(np.int64) << 8) | small[..., 2]
    height, width = packed.shape
    seen = np.zeros(packed.shape, dtype=bool)
    regions = 0
    for y in range(height):
        for x in range(width):
            if seen[y, x]:
                continue
            colour, stack, size = packed[y, x], [(y, x)], 0
            seen[y, x] = True
            while stack:
                cy, cx = stack.pop()
                size += 1
                for ny, nx in ((cy + 1, cx), (cy - 1, cx), (cy, cx + 1), (cy, cx - 1)):
                    if 0 <= ny < height and 0 <= nx < width and not seen[ny, nx] and packed[ny, nx] == colour:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
            regions += size >= 4
    return regions


def text_contrasts(design: Design, rgb: np.ndarray) -> list[dict[str, Any]]:
    """Per text element, read from the pixels: the surface actually under it (the dominant colour of the middle
    of its box, where a button's rounded corners do not reach) against its ink (the text colour the layout names,
    which must be present in the box), and the WCAG threshold it must reach (a CTA 4.5:1 whatever its size)."""
    rows = []
    for entry in design.layout["text_boxes"]:
        x, y, w, h = entry["box"]
        inner = rgb[y + h // 4:y + h - h // 4, x + w // 8:x + w - w // 8].reshape(-1, 3)
        if not len(inner):
            continue
        values, counts = np.unique(inner, axis=0, return_counts=True)
        surface = "#{:02X}{:02X}{:02X}".format(*values[int(np.argmax(counts))])
        ink = entry["color"]
        ink_rgb = tuple(int(ink[i:i + 2], 16) for i in (1, 3, 5))
        drawn = bool((rgb[y:y + h, x:x + w] == ink_rgb).all(axis=2).any())
        rows.append({"role": entry["role"], "size_px": entry["size_px"], "surface": surface, "ink": ink,
                     "ratio": round(contrast_ratio(surface, ink), 2) if drawn else 0.0,
                     "threshold": text_threshold(entry["size_px"], entry["role"])})
    return rows


def ocr_recall(renders: Sequence[tuple[str, Design]], workdir: Path) -> dict[str, Any]:
    """OCR word recall per text element (its words found in the OCR text of the element's box), via rapidocr in
    .venv-bench; {"available": False} when that environment is missing."""
    if not OCR_PYTHON.exists():
        return {"available": False, "why": "no .venv-bench (make bench-venv)"}
    jobs = []
    for index, (label, design) in enumerate(renders):
        assert design.image is not None
        for number, entry in enumerate(design.layout["text_boxes"]):
            x, y, w, h = entry["box"]
            pad = max(4, h // 4)
            crop = design.image.crop((max(0, x - pad), max(0, y - pad), min(design.width, x + w + pad),
                                      min(design.height, y + h + pad)))
            # Every element is read with its type magnified to at least OCR_TYPE_PX: the OCR model reads small
            # type better enlarged, and the same rule for every size keeps a 20 px headline from being read at a
            # smaller scale than a 9 px subline (the earlier rule enlarged only crops under 32 px tall, 3 times).
            scale = max(1.0, OCR_TYPE_PX / max(1, entry["size_px"]))
            if scale > 1:
                crop = crop.resize((round(crop.width * scale), round(crop.height * scale)), Image.Resampling.LANCZOS)
            path = workdir / f"{index}-{number}.png"
            crop.save(path)
            jobs.append({"path": str(path), "label": label, "role": entry["role"], "text": entry["text"],
                         "size_px": entry["size_px"]})
    (workdir / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    completed = subprocess.run([str(OCR_PYTHON), str(Path(__file__).with_name("_ocr_worker.py")),
                                str(workdir / "jobs.json")], capture_output=True, text=True, check=False, timeout=1800)
    if completed.returncode != 0:
        return {"available": False, "why": completed.stderr.strip()[-400:]}
    read = json.loads(completed.stdout)
    per_element = []
    for job, text in zip(jobs, read, strict=True):
        wanted = _words(job["text"])
        found = "".join(_words(text))  # OCR may merge words ("Shopnow"): a word counts when its letters are read
        recall = sum(1 for word in wanted if word in found) / max(1, len(wanted))
        per_element.append({"label": job["label"], "role": job["role"], "size_px": job["size_px"],
                            "recall": round(recall, 3)})
    recalls = [row["recall"] for row in per_element]
    misses = [row for row in per_element if row["recall"] < 1.0]
    return {"available": True, "elements": len(per_element), "mean_recall": round(float(np.mean(recalls)), 4),
            "elements_at_target": sum(recall >= TARGET_RECALL for recall in recalls), "misses": misses[:30]}


def _words(text: str) -> list[str]:
    return ["".join(ch for ch in word.lower() if ch.isalnum()) for word in text.split() if
            any(ch.isalnum() for ch in word)]


def crop_keeps_subject(samples: int = 60) -> dict[str, Any]:
    """The subject box kept by the crop to every standard size, on generated pictures with no text and no face; and
    how many text lines the crop's detection (sgd.design.subjects) found in them anyway (stripes, grain)."""
    from sgd.design.subjects import keep_whole

    kept_shares = []
    text_lines = 0
    for seed in range(samples):
        rng = random.Random(seed)
        width, height = rng.choice([(1600, 1000), (1000, 1600), (1400, 1400), (2000, 800)])
        data, subject = subject_photo(100 + seed, width, height)
        picture = Image.open(io.BytesIO(data))
        text_lines += sum(box.kind == "text" for box in keep_whole(picture.convert("RGB")))
        for _kind, target_w, target_h in STANDARD_SIZES:
            cx, cy = salient_centering(picture, (target_w, target_h))
            scale = max(target_w / width, target_h / height)
            crop_w, crop_h = target_w / scale, target_h / scale
            x0, y0 = (width - crop_w) * cx, (height - crop_h) * cy
            inside_w = max(0.0, min(subject.right, x0 + crop_w) - max(subject.x, x0))
            inside_h = max(0.0, min(subject.bottom, y0 + crop_h) - max(subject.y, y0))
            # A subject larger than the crop can be kept at most to the crop's size.
            kept_shares.append(inside_w * inside_h / (min(subject.w, crop_w) * min(subject.h, crop_h)))
    return {"crops": len(kept_shares), "kept_at_target": sum(share >= TARGET_CROP_KEPT for share in kept_shares),
            "mean_kept": round(float(np.mean(kept_shares)), 4), "min_kept": round(float(np.min(kept_shares)), 4),
            "pictures": samples, "text_lines_found": text_lines}


def text_found(samples: int = 36) -> dict[str, Any]:
    """Lines of mixed-case text in every bundled font (bench.support.photos.text_photo) found by the crop's
    detection: the padded box found covers 90 % of the drawn line."""
    from sgd.design.subjects import keep_whole

    from bench.support.photos import text_photo

    found = 0
    for seed in range(samples):
        width, height = [(1600, 1000), (1000, 1600), (1400, 1400), (2000, 800)][seed % 4]
        picture, text = text_photo(900 + seed, width, height)
        found += any(box.kind == "text" and covered_share(box.padded, text) >= 0.9 for box in keep_whole(picture))
    return {"pictures": samples, "found": found}


def crop_keeps_faces_and_text(samples: int = 24) -> dict[str, Any]:
    """On generated pictures with a drawn face, a line of text and a competing bright subject (bench.support.photos),
    cropped to every standard size: how often the face and the text are kept whole (entirely inside the crop), cut
    (partly inside), or left out whole. A box larger than the crop along the cut axis cannot be kept whole and is
    counted apart. Detection itself is reported too (the padded box found covers 90 % of the drawn one)."""
    from bench.support.photos import face_and_text_photo

    counts = {kind: {"whole": 0, "cut": 0, "left_out": 0, "too_large": 0} for kind in ("face", "text")}
    detected = {"face": 0, "text": 0}
    pictures = 0
    for seed in range(samples):
        width, height = [(1600, 1000), (1000, 1600), (1400, 1400), (2000, 800)][seed % 4]
        data, face, text = face_and_text_photo(500 + seed, width, height)
        picture = Image.open(io.BytesIO(data)).convert("RGB")
        pictures += 1
        try:
            from sgd.design.subjects import keep_whole
        except ImportError:  # main before faces and text were detected: the crop alone is measured
            found: tuple[Any, ...] = ()
        else:
            found = keep_whole(picture)
        for kind, truth in (("face", face), ("text", text)):
            detected[kind] += any(box.kind == kind and covered_share(box.padded, truth) >= 0.9 for box in found)
        for _kind, target_w, target_h in STANDARD_SIZES:
            cx, cy = salient_centering(picture, (target_w, target_h))
            scale = max(target_w / width, target_h / height)
            crop_w, crop_h = target_w / scale, target_h / scale
            x0, y0 = (width - crop_w) * cx, (height - crop_h) * cy
            for kind, truth in (("face", face), ("text", text)):
                if truth.w > crop_w + 0.5 or truth.h > crop_h + 0.5:
                    counts[kind]["too_large"] += 1
                    continue
                inside_w = max(0.0, min(truth.right, x0 + crop_w) - max(truth.x, x0))
                inside_h = max(0.0, min(truth.bottom, y0 + crop_h) - max(truth.y, y0))
                share = inside_w * inside_h / (truth.w * truth.h)
                outcome = "whole" if share >= 0.999 else "left_out" if share <= 0.001 else "cut"
                counts[kind][outcome] += 1
    return {"pictures": pictures, "crops": pictures * len(STANDARD_SIZES), "detected": detected, **counts}


@dataclass
class KitReport:
    name: str
    templates: dict[str, list[str]] = field(default_factory=dict)  # size -> template per seed
    logo_ok: dict[str, bool] = field(default_factory=dict)  # size -> every seed had a compliant logo
    logo_problems: list[str] = field(default_factory=list)
    logo_treatments: dict[str, int] = field(default_factory=dict)  # as_is / knockout / plate -> renders
    logo_version_mismatches: list[str] = field(default_factory=list)  # a version drawn on the other background
    contrast_failures: list[dict[str, Any]] = field(default_factory=list)
    cta_only_outside: list[float] = field(default_factory=list)  # % of the canvas
    proportion_misses: list[str] = field(default_factory=list)
    never_background_misses: list[str] = field(default_factory=list)
    edge_density: list[float] = field(default_factory=list)
    regions: list[int] = field(default_factory=list)
    render_ms: list[float] = field(default_factory=list)


def measure_kit(kit: Kit, seeds: int, renders: list[tuple[str, Design]], sheets: list[tuple[str, Design]]) -> KitReport:
    report = KitReport(kit.name)
    rules = kit.canon.get("usage_rules") or []
    minimum = int(kit.canon.get("logo_min_width_px") or LOGO_MIN_LONG_SIDE)
    for _kind, width, height in STANDARD_SIZES:
        size = f"{width}x{height}"
        report.templates[size] = []
        report.logo_ok[size] = True
        for seed in range(seeds):
            design, elapsed = render(kit, width, height, seed)
            report.render_ms.append(elapsed)
            rgb = pixels_of(design)
            report.templates[size].append(design.layout["template"])
            renders.append((f"{kit.name} {size} seed {seed}", design))
            if seed < 2:
                sheets.append((f"{kit.name} {size} s{seed}", design))
            used = design.layout.get("logo_version")
            if used:
                report.logo_treatments[used["treatment"]] = report.logo_treatments.get(used["treatment"], 0) + 1
                tone = "light" if contrast_ratio(used["background"], "#000000") >= \
                    contrast_ratio(used["background"], "#FFFFFF") else "dark"
                if kit.logo_versions and used["use_on"] not in (tone, "any"):
                    report.logo_version_mismatches.append(f"{size} seed {seed}: {used['asset_id']} on {tone}")
            problem = _logo_problem(design, minimum)
            if problem:
                report.logo_ok[size] = False
                report.logo_problems.append(f"{size} seed {seed}: {problem}")
            for row in text_contrasts(design, rgb):
                if row["ratio"] < row["threshold"]:
                    report.contrast_failures.append({"render": f"{size} seed {seed}", **row})
            _check_rules(report, design, rgb, rules, f"{size} seed {seed}")
            if width * height >= 500_000:  # personality fit on the social sizes: enough area to read density
                report.edge_density.append(edge_density(rgb))
                report.regions.append(colour_regions(rgb))
    return report


def _logo_problem(design: Design, minimum: int) -> str | None:
    layout = design.layout
    if layout["logo_box"] is None:
        return "no logo (" + "; ".join(note for note in design.notes if "logo" in note) + ")"
    logo = Box(*layout["logo_box"])
    clear = layout["clear_space_px"]
    if logo.w < minimum:
        return f"logo {logo.w}px wide, under its minimum {minimum}px"
    if edge_clearance(logo, Box(0, 0, design.width, design.height)) < clear:
        return "logo closer to an edge than its clear space"
    for entry in layout["text_boxes"]:
        if clearance(logo, Box(*entry["box"])) < clear:
            return f"{entry['role']} inside the logo's clear space"
    return None


def _check_rules(report: KitReport, design: Design, rgb: np.ndarray, rules: list[dict[str, Any]], where: str) -> None:
    packed = (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2]
    total = packed.size
    buttons = [Box(*shape["box"]) for shape in design.layout["shapes"] if shape["name"] == "button"]
    ctas = [Box(*entry["box"]) for entry in design.layout["text_boxes"] if entry["role"] == "cta"]
    for rule in rules:
        colour = int(rule["hex"][1:], 16)
        mask = packed == colour
        if rule["kind"] == "cta_only":
            for box in [*buttons, *ctas]:
                mask[box.y:box.bottom, box.x:box.right] = False
            report.cta_only_outside.append(100.0 * float(mask.sum()) / total)
        elif rule["kind"] == "proportion":
            share = 100.0 * float(mask.sum()) / total
            low, high = rule.get("min_pct"), rule.get("max_pct")
            if (low is not None and share < low - PROPORTION_TOLERANCE) or \
                    (high is not None and share > high + PROPORTION_TOLERANCE):
                report.proportion_misses.append(f"{where}: {rule['hex']} {share:.0f}% (rule {low}-{high}%)")
        elif rule["kind"] == "never_background":  # a canvas, panel or surface under copy (a button is a fill)
            under = {entry["background"] for entry in design.layout["text_boxes"] if entry["role"] != "cta"}
            if rule["hex"] in under:
                report.never_background_misses.append(f"{where}: copy set on {rule['hex']}")


def contact_sheet(items: Sequence[tuple[str, Design]], path: Path, cell: int = 260) -> None:
    columns = 6
    rows = (len(items) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * cell, rows * (cell + 18)), (236, 236, 236))
    draw = ImageDraw.Draw(sheet)
    for index, (label, design) in enumerate(items):
        assert design.image is not None
        thumb = design.image.copy()
        thumb.thumbnail((cell - 10, cell - 10))
        x, y = (index % columns) * cell, (index // columns) * (cell + 18)
        sheet.paste(thumb, (x + (cell - thumb.width) // 2, y + 4))
        draw.text((x + 4, y + cell), label[:44], fill=(40, 40, 40))
    sheet.save(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--no-ocr", action="store_true")
    parser.add_argument("--sheets", action="store_true", help="write contact sheets of the renders")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    kits = [*example_kits(), *generated_kits()]
    renders: list[tuple[str, Design]] = []
    sheets: list[tuple[str, Design]] = []
    reports = []
    for kit in kits:
        print(f"rendering {kit.name}", file=sys.stderr, flush=True)
        reports.append(measure_kit(kit, args.seeds, renders, sheets))
    every_template = sorted({template for report in reports for seeds in report.templates.values()
                             for template in seeds})
    calm = [value for kit, report in zip(kits, reports, strict=True) if kit.calm is True
            for value in report.edge_density]
    loud = [value for kit, report in zip(kits, reports, strict=True) if kit.calm is False
            for value in report.edge_density]
    calm_regions = [value for kit, report in zip(kits, reports, strict=True) if kit.calm is True
                    for value in report.regions]
    loud_regions = [value for kit, report in zip(kits, reports, strict=True) if kit.calm is False
                    for value in report.regions]
    bank, games = reports[-3], reports[-2]
    differing = {size: bank.templates[size][0] != games.templates[size][0] for size in bank.templates}
    differing_seeds = {size: sum(a != b for a, b in zip(bank.templates[size], games.templates[size], strict=True))
                       for size in bank.templates}
    with tempfile.TemporaryDirectory() as folder:
        # OCR reads seed 0 of every kit and size: every layout family and type size, in minutes not hours.
        first_seeds = [(label, design) for label, design in renders if label.endswith("seed 0")]
        ocr = {"available": False, "why": "--no-ocr"} if args.no_ocr else ocr_recall(first_seeds, Path(folder))
    result = {
        "sizes": [f"{w}x{h}" for _kind, w, h in STANDARD_SIZES], "seeds": args.seeds,
        "structure": {
            "distinct_templates_overall": every_template,
            "distinct_per_size": {report.name: {size: len(set(seeds)) for size, seeds in report.templates.items()}
                                  for report in reports},
            "calm_vs_energetic_differ_at_seed_0": differing,
            "calm_vs_energetic_seeds_differing": differing_seeds,
            "calm_vs_energetic_per_size": {size: {"calm": bank.templates[size], "energetic": games.templates[size]}
                                           for size in bank.templates},
        },
        "colour_roles": {report.name: {"cta_only_outside_pct_max": round(max(report.cta_only_outside), 4)
                                       if report.cta_only_outside else None,
                                       "proportion_misses": report.proportion_misses[:12],
                                       "proportion_miss_count": len(report.proportion_misses),
                                       "never_background_misses": report.never_background_misses[:12]}
                         for report in reports},
        "personality_fit": {"calm_edge_density": round(float(np.mean(calm)), 4),
                            "energetic_edge_density": round(float(np.mean(loud)), 4),
                            "calm_colour_regions": round(float(np.mean(calm_regions)), 1),
                            "energetic_colour_regions": round(float(np.mean(loud_regions)), 1)},
        "legibility": {"contrast_failures": [dict(row, kit=report.name) for report in reports
                                             for row in report.contrast_failures][:30],
                       "contrast_failure_count": sum(len(report.contrast_failures) for report in reports),
                       "text_elements": sum(len(design.layout["text_boxes"]) for _label, design in renders),
                       "ocr": ocr},
        "logo": {report.name: {"sizes_ok": sum(report.logo_ok.values()), "sizes": len(report.logo_ok),
                               "problems": report.logo_problems[:12], "treatments": report.logo_treatments,
                               "versions": bool(kit.logo_versions),
                               "version_mismatches": report.logo_version_mismatches[:12]}
                 for kit, report in zip(kits, reports, strict=True)},
        "imagery": crop_keeps_subject(),
        "faces_and_text": crop_keeps_faces_and_text(),
        "text_found": text_found(),
        "engine_ms": percentiles([ms for report in reports for ms in report.render_ms]),
    }
    (args.out / "design_quality.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    (args.out / "design_quality.md").write_text(markdown(result), encoding="utf-8")
    if args.sheets:
        sheet_dir = args.out / "design_quality"
        sheet_dir.mkdir(exist_ok=True)
        for kit in kits:
            contact_sheet([(label, design) for label, design in sheets if label.startswith(kit.name)],
                          sheet_dir / f"{kit.name.split(' ')[0]}.png")
    print(markdown(result))
    return 0


def markdown(result: dict[str, Any]) -> str:
    structure, fit, legibility, imagery = (result["structure"], result["personality_fit"], result["legibility"],
                                           result["imagery"])
    ocr = legibility["ocr"]
    lines = ["# Design quality", "",
             f"Sizes: {', '.join(result['sizes'])}; seeds 0-{result['seeds'] - 1}.", "",
             "| Check | Target | Measured |", "|---|---|---|",
             f"| Distinct layout structures (all kits, all sizes) | >= 8 | "
             f"{len(structure['distinct_templates_overall'])} ({', '.join(structure['distinct_templates_overall'])}) |",
             f"| Calm bank vs games studio, same instruction, seed 0 | differ on every size | "
             f"{sum(structure['calm_vs_energetic_differ_at_seed_0'].values())} of "
             f"{len(structure['calm_vs_energetic_differ_at_seed_0'])} sizes |",
             f"| Calm bank vs games studio, every seed | differ on every size and seed | "
             f"{sum(structure['calm_vs_energetic_seeds_differing'].values())} of "
             f"{len(structure['calm_vs_energetic_seeds_differing']) * result['seeds']} (size, seed) pairs |",
             f"| Edge density, calm vs energetic brands | calm < energetic | {fit['calm_edge_density']} vs "
             f"{fit['energetic_edge_density']} |",
             f"| Colour regions, calm vs energetic brands | calm < energetic | {fit['calm_colour_regions']} vs "
             f"{fit['energetic_colour_regions']} |",
             f"| Text elements below their WCAG contrast (pixels) | 0 | {legibility['contrast_failure_count']} of "
             f"{legibility['text_elements']} |"]
    if ocr.get("available"):
        lines.append(f"| OCR word recall per text element | >= {TARGET_RECALL} each | mean {ocr['mean_recall']}; "
                     f"{ocr['elements_at_target']} of {ocr['elements']} at target |")
    else:
        lines.append(f"| OCR word recall | >= {TARGET_RECALL} | not measured: {ocr.get('why')} |")
    lines.append(f"| Smart crop keeps the subject box | >= {TARGET_CROP_KEPT:.0%} kept | "
                 f"{imagery['kept_at_target']} of {imagery['crops']} crops (mean {imagery['mean_kept']:.1%}, "
                 f"min {imagery['min_kept']:.1%}) |")
    if "text_lines_found" in imagery:
        lines.append(f"| Text lines found where there is no text (stripes, grain) | 0 | "
                     f"{imagery['text_lines_found']} in {imagery['pictures']} pictures |")
    if "text_found" in result:
        found = result["text_found"]
        lines.append(f"| Mixed-case text found (every bundled font, on a plate or on the picture) | every line | "
                     f"{found['found']} of {found['pictures']} pictures |")
    uncut = result.get("faces_and_text")
    if uncut:
        for kind in ("face", "text"):
            row = uncut[kind]
            fits = row["whole"] + row["cut"] + row["left_out"]
            lines.append(f"| Smart crop keeps the {kind} whole (drawn {kind}, competing subject) | never cut | "
                         f"whole {row['whole']}, cut {row['cut']}, left out {row['left_out']} of {fits} crops it fits "
                         f"({row['too_large']} larger than the crop); {kind} found in "
                         f"{uncut['detected'][kind]} of {uncut['pictures']} pictures |")
    engine = result["engine_ms"]
    lines.append(f"| Engine time per render (all sizes) | info | p50 {engine['p50']} ms, p95 {engine['p95']} ms |")
    lines += ["", "## Per kit", "",
              "| Kit | Logo on standard sizes | Logo drawn as is / knockout / plate | CTA-only colour outside the CTA "
              "(max % of canvas) | Proportion misses | Never-background misses | Distinct templates per size |",
              "|---|---|---|---|---|---|---|"]
    for name, logo in result["logo"].items():
        roles = result["colour_roles"][name]
        distinct = structure["distinct_per_size"][name]
        drawn = logo.get("treatments", {})
        versions = (f" (2 uploaded versions; {len(logo['version_mismatches'])} drawn on the other background)"
                    if logo.get("versions") else "")
        lines.append(f"| {name} | {logo['sizes_ok']} of {logo['sizes']} | {drawn.get('as_is', 0)} / "
                     f"{drawn.get('knockout', 0)} / {drawn.get('plate', 0)}{versions} | "
                     f"{roles['cta_only_outside_pct_max'] if roles['cta_only_outside_pct_max'] is not None else 'n/a'}"
                     f" | {roles['proportion_miss_count']} | {len(roles['never_background_misses'])} | "
                     f"{min(distinct.values())}-{max(distinct.values())} |")
    per_size = structure.get("calm_vs_energetic_per_size")
    if per_size:
        lines += ["", "## Structure per size: calm bank vs games studio (seeds 0, 1, 2, ...)", "",
                  "| Size | Calm (Harbour Bank) | Energetic (Pixel Riot) | Differ at seed 0 | Seeds differing |",
                  "|---|---|---|---|---|"]
        for size, pair in per_size.items():
            lines.append(f"| {size} | {', '.join(pair['calm'])} | {', '.join(pair['energetic'])} | "
                         f"{'yes' if structure['calm_vs_energetic_differ_at_seed_0'][size] else '**no**'} | "
                         f"{structure['calm_vs_energetic_seeds_differing'][size]} of {len(pair['calm'])} |")
    problems = [f"- {name}: {problem}" for name, logo in result["logo"].items() for problem in logo["problems"]]
    if problems:
        lines += ["", "Logo problems:", "", *problems[:20]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
