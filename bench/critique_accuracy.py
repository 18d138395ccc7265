"""Critique accuracy: the measured critic against labelled designs, and SGD's own renders against zero violations.

    python -m bench.critique_accuracy [--out bench/results] [--seeds 6] [--no-renders] [--kits FOLDER]

1. Labelled designs: every examples/brands/*/critique/labels.json (and FOLDER/*/critique/ of each --kits FOLDER,
   e.g. --kits ../shared/fixtures/brands: nothing outside the repository is read unless asked for). Each design
   is critiqued as an external image: no layout, the brand's truth.json as the canon and its logo.png found by
   matching. A confusion table per class (palette, contrast, logo_safe_zone):
   TP/FP/FN/TN, precision and recall. Target: both >= 0.95 for every class.
2. SGD's own renders: every kit with a truth.json and a logo.png is rendered by the design engine (several sizes,
   seeds and formats) and critiqued twice, with its layout and as an external image. Target: zero violations.

Writes critique_accuracy.json and critique_accuracy.md to --out. Exit code 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "shared"))

from sgd.critique.logo import prepare_logo  # noqa: E402
from sgd.critique.measure import decode_design, measure_design  # noqa: E402
from sgd.critique.policy import load_critique_policy  # noqa: E402
from sgd.design.engine import DesignRequest, render_design  # noqa: E402
from sgd.design.planner import palette_in_use, rule_based_plan  # noqa: E402

from bench.stats import percentiles  # noqa: E402

KIT_FOLDERS = (ROOT / "examples" / "brands",)
CLASSES = ("palette", "contrast", "logo_safe_zone")
TARGET = 0.95
RENDER_SIZES = ((1080, 1080), (1200, 628), (1080, 1920), (600, 600))
RENDER_FORMATS = ("png", "jpg", "webp")
INSTRUCTIONS = (
    "Announce our spring open house with a clear call to action",
    'Poster with the headline "Fresh roast, every morning" and the subline "Visit us on Main Street"',
    'Banner saying "Join the webinar", CTA: Register now',
)


def kits(extra_folders: tuple[Path, ...] = ()) -> list[Path]:
    """Kit folders with a truth.json, the examples copy winning over an extra folder's kit of the same name."""
    found: dict[str, Path] = {}
    for folder in (*KIT_FOLDERS, *extra_folders):
        if folder.is_dir():
            for kit in sorted(path for path in folder.iterdir() if (path / "truth.json").is_file()):
                found.setdefault(kit.name, kit)
    return list(found.values())


def _canon(kit: Path) -> dict[str, Any]:
    return json.loads((kit / "truth.json").read_text(encoding="utf-8"))


def _logo(kit: Path) -> bytes | None:
    path = kit / "logo.png"
    return path.read_bytes() if path.is_file() else None


def measure_labelled(kit: Path) -> list[dict[str, Any]]:
    """Every labelled design of a kit, critiqued as an external image."""
    labels_path = kit / "critique" / "labels.json"
    if not labels_path.is_file():
        return []
    policy = load_critique_policy()
    canon = _canon(kit)
    logo_bytes = _logo(kit)
    logo = prepare_logo(logo_bytes) if logo_bytes else None
    rows = []
    for name, label in json.loads(labels_path.read_text(encoding="utf-8")).items():
        data = (kit / "critique" / name).read_bytes()
        started = time.perf_counter()
        image = decode_design(data)
        measurement = measure_design(image, canon, policy, logo=logo)
        elapsed = (time.perf_counter() - started) * 1000
        predicted = sorted({violation["kind"] for violation in measurement.violations} & set(CLASSES))
        rows.append({"kit": kit.name, "design": name, "expected": sorted(label.get("violations") or []),
                     "predicted": predicted, "score": measurement.score, "ms": round(elapsed, 1),
                     "contrast": _contrast_error(label, measurement.checks["contrast"]),
                     "messages": [violation["message"] for violation in measurement.violations]})
    return rows


def _contrast_error(label: dict[str, Any], check: dict[str, Any]) -> float | None:
    """The largest difference between a labelled text box's contrast and the detected line inside it."""
    errors = []
    for truth in label.get("text_boxes") or []:
        x0, y0, x1, y1 = truth["box"]  # labels.json boxes are [x0, y0, x1, y1]
        inside = [box for box in check.get("text_boxes") or []
                  if x0 - 4 <= box["box"][0] and box["box"][0] + box["box"][2] <= x1 + 4
                  and y0 - 4 <= box["box"][1] and box["box"][1] + box["box"][3] <= y1 + 4]
        if not inside:
            return None
        errors.append(max(abs(box["ratio"] - truth["contrast"]) for box in inside))
    return round(max(errors), 3) if errors else None


def confusion(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    table = {}
    for kind in CLASSES:
        tp = sum(kind in row["expected"] and kind in row["predicted"] for row in rows)
        fp = sum(kind not in row["expected"] and kind in row["predicted"] for row in rows)
        fn = sum(kind in row["expected"] and kind not in row["predicted"] for row in rows)
        tn = len(rows) - tp - fp - fn
        # Nothing predicted and nothing to find is perfect precision; nothing to find is perfect recall.
        precision = tp / (tp + fp) if tp + fp else (1.0 if not tp + fn else 0.0)
        recall = tp / (tp + fn) if tp + fn else 1.0
        table[kind] = {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": round(precision, 4),
                       "recall": round(recall, 4)}
    return table


def render_cases(kit: Path, seeds: int) -> list[dict[str, Any]]:
    """The kit rendered by the design engine, critiqued with its layout and as an external image."""
    logo_bytes = _logo(kit)
    if logo_bytes is None:
        return []
    policy = load_critique_policy()
    canon = _canon(kit) | {"logo_asset_id": "logo"}
    logo = prepare_logo(logo_bytes)
    rows = []
    for width, height in RENDER_SIZES:
        for seed in range(seeds):
            instruction = INSTRUCTIONS[seed % len(INSTRUCTIONS)]
            for image_format in RENDER_FORMATS:
                request = {"prompts": {"task": "create", "instruction": instruction, "references": []},
                           "outputs": {"count": 1, "format": image_format, "dimensions": f"{width}x{height}"},
                           "constraints": {}}
                plan = rule_based_plan(instruction, canon, request)
                design = render_design(DesignRequest(
                    plan=plan, width=width, height=height, format=image_format,
                    palette=tuple(palette_in_use(canon, request)), fonts=tuple(canon.get("fonts") or ()),
                    logo=logo_bytes, logo_safe_zone_pct=float(canon.get("logo_safe_zone_pct") or 0), seed=seed))
                image = decode_design(design.data)
                expected = {"width": width, "height": height, "format": image_format}
                for mode in ("layout", "detected"):
                    started = time.perf_counter()
                    measurement = measure_design(image, canon, policy, expected=expected,
                                                 layout=design.layout if mode == "layout" else None,
                                                 logo=None if mode == "layout" else logo)
                    elapsed = (time.perf_counter() - started) * 1000
                    rows.append({"kit": kit.name, "size": f"{width}x{height}", "seed": seed, "format": image_format,
                                 "mode": mode, "violations": measurement.violations, "ms": round(elapsed, 1)})
    return rows


def run(seeds: int = 6, renders: bool = True, extra_folders: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The whole measurement as one JSON-able dict (bench/run.py embeds it)."""
    labelled = [row for kit in kits(extra_folders) for row in measure_labelled(kit)]
    table = confusion(labelled)
    rendered = [row for kit in kits(extra_folders) for row in render_cases(kit, seeds)] if renders else []
    failing_renders = [row for row in rendered if row["violations"]]
    classes_ok = all(entry["precision"] >= TARGET and entry["recall"] >= TARGET for entry in table.values())
    timing = {mode: percentiles([row["ms"] for row in rendered if row["mode"] == mode])
              for mode in ("layout", "detected") if any(row["mode"] == mode for row in rendered)}
    if labelled:
        timing["labelled"] = percentiles([row["ms"] for row in labelled])
    return {"target": TARGET, "designs": len(labelled), "confusion": table, "labelled": labelled,
            "renders": {"count": len(rendered), "with_violations": len(failing_renders),
                        "by_kind": _count_by_kind(failing_renders), "failures": failing_renders[:50]},
            "timing_ms": timing, "ok": bool(labelled) and classes_ok and not failing_renders}


def _count_by_kind(rows: list[dict[str, Any]]) -> dict[str, int]:
    """How many renders have a violation of each kind, per mode ("detected/logo_safe_zone": 3)."""
    counts: dict[str, int] = {}
    for row in rows:
        for kind in sorted({violation["kind"] for violation in row["violations"]}):
            key = f"{row['mode']}/{kind}"
            counts[key] = counts.get(key, 0) + 1
    return counts


def markdown(result: dict[str, Any]) -> str:
    lines = ["# Critique accuracy", "",
             f"{result['designs']} labelled designs (external images: no layout, logo found by matching). "
             f"Target: precision and recall >= {result['target']} per class.", "",
             "| Class | TP | FP | FN | TN | Precision | Recall |", "|---|---|---|---|---|---|---|"]
    for kind, entry in result["confusion"].items():
        lines.append(f"| {kind} | {entry['tp']} | {entry['fp']} | {entry['fn']} | {entry['tn']} | "
                     f"{entry['precision']:.2f} | {entry['recall']:.2f} |")
    wrong = [row for row in result["labelled"] if row["expected"] != row["predicted"]]
    if wrong:
        lines += ["", "Misclassified:", ""]
        lines += [f"- {row['kit']}/{row['design']}: expected {row['expected']}, got {row['predicted']}"
                  for row in wrong]
    renders = result["renders"]
    lines += ["", f"SGD renders critiqued (with layout and as external images): {renders['count']}, "
                  f"with violations: {renders['with_violations']} (target 0)."]
    if renders["by_kind"]:
        lines.append("By mode and kind: " + ", ".join(f"{key} {count}" for key, count in renders["by_kind"].items()))
    for row in renders["failures"][:20]:
        lines.append(f"- {row['kit']} {row['size']} seed {row['seed']} {row['format']} ({row['mode']}): "
                     + "; ".join(violation["message"][:160] for violation in row["violations"]))
    if result["timing_ms"]:
        lines += ["", "| Timing (measure_design, ms) | n | p50 | p95 | max |", "|---|---|---|---|---|"]
        for mode, stats in result["timing_ms"].items():
            lines.append(f"| {mode} | {stats['n']} | {stats['p50']:.1f} | {stats['p95']:.1f} | {stats['max']:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--seeds", type=int, default=6, help="render seeds per kit, size and format")
    parser.add_argument("--no-renders", action="store_true", help="only the labelled designs")
    parser.add_argument("--kits", type=Path, action="append", default=[], metavar="FOLDER",
                        help="also the kits in this folder (repeatable), e.g. ../shared/fixtures/brands")
    args = parser.parse_args(argv)
    result = run(seeds=args.seeds, renders=not args.no_renders, extra_folders=tuple(args.kits))
    text = markdown(result)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "critique_accuracy.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (args.out / "critique_accuracy.md").write_text(text, encoding="utf-8")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
