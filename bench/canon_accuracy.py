"""Canon accuracy: admit + extract + derive every brand kit, compare with its truth.json, and print precision and
recall per field.

    python -m bench.canon_accuracy [--out bench/results] [--generated] [--kits FOLDER]

Kits: every folder with a truth.json under examples/brands/, then under each --kits FOLDER given (for example
--kits ../shared/fixtures/brands; a kit name found twice is measured once, the examples copy winning). Nothing
outside the repository is read unless asked for. --generated also measures the guideline layouts
bench/support/pdfs.py writes with fpdf2 (a development-only dependency). Writes canon_accuracy.json and
canon_accuracy.md to the output folder. Exit code 0: this is a measurement, not a gate.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "shared"))

from sgd.canon.derive import derive_canon  # noqa: E402
from sgd.ingest.admission import AdmissionRejected, admit  # noqa: E402
from sgd.ingest.extract import extract  # noqa: E402
from sgd.ingest.pipeline import asset_id_of, evidence_id_of  # noqa: E402

KIT_FOLDERS = (ROOT / "examples" / "brands",)
MAX_BYTES = 10 * 1024 * 1024
SET_FIELDS = ("palette_hex", "forbidden_hex", "fonts", "voice.dos", "voice.donts")


def _normalise(field: str, value: str) -> str:
    if field.endswith(("dos", "donts")):
        return re.sub(r"[\s.]+$", "", re.sub(r"\s+", " ", value.strip().lower()))
    return value.strip().upper() if field.endswith("_hex") else value.strip()


def _get(canon: dict[str, Any], field: str) -> Any:
    value: Any = canon
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def precision_recall(derived: list[str], truth: list[str]) -> dict[str, Any]:
    """Set precision and recall; an empty derived set against an empty truth is perfect (nothing to find)."""
    found, expected = set(derived), set(truth)
    hits = len(found & expected)
    return {"precision": hits / len(found) if found else (1.0 if not expected else 0.0),
            "recall": hits / len(expected) if expected else 1.0,
            "extra": sorted(found - expected), "missed": sorted(expected - found)}


def score(canon: dict[str, Any], truth: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for field in SET_FIELDS:
        derived = [_normalise(field, value) for value in _get(canon, field) or []]
        expected = [_normalise(field, value) for value in _get(truth, field) or []]
        fields[field] = precision_recall(derived, expected)
    tone, expected_tone = _get(canon, "voice.tone") or "", _get(truth, "voice.tone") or ""
    fields["voice.tone"] = {"present": bool(tone), "equal": tone.strip().lower() == expected_tone.strip().lower(),
                            "value": tone}
    zone, expected_zone = canon.get("logo_safe_zone_pct"), truth.get("logo_safe_zone_pct")
    fields["logo_safe_zone_pct"] = {"equal": zone is not None and expected_zone is not None
                                    and float(zone) == float(expected_zone), "value": zone, "expected": expected_zone}
    if "color_roles" in truth:  # stated roles and usage rules (a kit whose guideline states them)
        fields["color_roles"] = precision_recall(
            [f"{color} {role}" for color, role in (canon.get("color_roles") or {}).items()
             if color in truth["color_roles"]],
            [f"{color} {role}" for color, role in truth["color_roles"].items()])
        fields["usage_rules"] = precision_recall(
            [_rule_key(rule) for rule in canon.get("usage_rules") or []],
            [_rule_key(rule) for rule in truth.get("usage_rules") or []])
    return fields


def _rule_key(rule: dict[str, Any]) -> str:
    return f"{rule.get('kind')} {rule.get('hex')} {rule.get('min_pct')} {rule.get('max_pct')}"


def _standin_kind(path: Path) -> bool:
    return path.suffix.lower() in {".pdf", ".png", ".jpg", ".jpeg", ".webp", ".ttf", ".otf", ".woff2", ".txt", ".md",
                                   ".html", ".htm"}


def measure_kit(name: str, files: list[tuple[str, bytes]], truth: dict[str, Any]) -> dict[str, Any]:
    evidence = []
    rejected = []
    started = time.perf_counter()
    for filename, data in files:
        try:
            admitted = admit(data, max_bytes=MAX_BYTES)
        except AdmissionRejected as rejection:
            rejected.append({"file": filename, "reason": str(rejection)})
            continue
        document = extract(admitted, source=filename).document
        asset_id = asset_id_of(data)
        evidence.append(document | {"evidence_id": evidence_id_of(asset_id), "asset_id": asset_id})
    extracted = time.perf_counter()
    derived = derive_canon(evidence)
    finished = time.perf_counter()
    return {"kit": name, "files": [filename for filename, _ in files], "rejected": rejected,
            "canon": derived.canon, "missing": derived.missing, "notes": derived.notes,
            "fields": score(derived.canon, truth),
            "extract_ms": round(1000 * (extracted - started), 1), "derive_ms": round(1000 * (finished - extracted), 1)}


def kits_on_disk(extra_folders: tuple[Path, ...] = ()) -> list[tuple[str, list[tuple[str, bytes]], dict[str, Any]]]:
    kits: dict[str, tuple[str, list[tuple[str, bytes]], dict[str, Any]]] = {}
    for folder in (*KIT_FOLDERS, *extra_folders):
        if not folder.is_dir():
            continue
        for kit in sorted(path for path in folder.iterdir() if (path / "truth.json").is_file()):
            if kit.name in kits:
                continue
            files = [(path.name, path.read_bytes()) for path in sorted(kit.iterdir())
                     if path.is_file() and path.name != "truth.json" and _standin_kind(path)]
            kits[kit.name] = (kit.name, files, json.loads((kit / "truth.json").read_text(encoding="utf-8")))
    return list(kits.values())


def generated_kits() -> list[tuple[str, list[tuple[str, bytes]], dict[str, Any]]]:
    from bench.support.pdfs import LAYOUTS  # fpdf2 is a development-only dependency: imported when asked for

    kits = []
    for name, build in LAYOUTS.items():
        kit = build()
        kits.append((f"generated/{name}", [(f"{name}.pdf", kit.pdf)], kit.truth))
    return kits


def _cell(result: dict[str, Any]) -> str:
    return f"{result['precision']:.2f} / {result['recall']:.2f}"


def markdown(results: list[dict[str, Any]]) -> str:
    header = ("| Kit | palette P/R | forbidden P/R | fonts P/R | tone present / equal | dos P/R | don'ts P/R "
              "| safe zone | extract ms | derive ms |")
    lines = ["# Canon accuracy", "", header, "|" + "---|" * 10]
    for result in results:
        fields = result["fields"]
        tone = fields["voice.tone"]
        zone = fields["logo_safe_zone_pct"]
        lines.append(
            f"| {result['kit']} | {_cell(fields['palette_hex'])} | {_cell(fields['forbidden_hex'])} "
            f"| {_cell(fields['fonts'])} | {'yes' if tone['present'] else 'no'} / {'yes' if tone['equal'] else 'no'} "
            f"| {_cell(fields['voice.dos'])} | {_cell(fields['voice.donts'])} "
            f"| {'ok' if zone['equal'] else 'off'} ({zone['value']} vs {zone['expected']}) "
            f"| {result['extract_ms']} | {result['derive_ms']} |")
    stated = [result for result in results if "color_roles" in result["fields"]]
    if stated:
        lines += ["", "Colour roles and usage rules the guideline states (stated roles only; inferred ones are "
                  "marked `inferred` in the provenance):", "", "| Kit | roles P/R | usage rules P/R |", "|---|---|---|"]
        lines += [f"| {result['kit']} | {_cell(result['fields']['color_roles'])} | "
                  f"{_cell(result['fields']['usage_rules'])} |" for result in stated]
    lines.append("")
    for result in results:
        misses = {field: (value.get("missed"), value.get("extra")) for field, value in result["fields"].items()
                  if value.get("missed") or value.get("extra")}
        if misses or result["missing"] or result["rejected"]:
            lines.append(f"- **{result['kit']}**: missed/extra {misses}; missing {result['missing']}; "
                         f"rejected {result['rejected']}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--generated", action="store_true",
                        help="also measure the fpdf2 layouts of bench/support/pdfs.py")
    parser.add_argument("--kits", type=Path, action="append", default=[], metavar="FOLDER",
                        help="also the kits in this folder (repeatable), e.g. ../shared/fixtures/brands")
    args = parser.parse_args(argv)
    kits = kits_on_disk(tuple(args.kits)) + (generated_kits() if args.generated else [])
    results = [measure_kit(name, files, truth) for name, files, truth in kits]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "canon_accuracy.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n",
                                                  encoding="utf-8")
    report = markdown(results)
    (args.out / "canon_accuracy.md").write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
