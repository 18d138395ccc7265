"""The critic's stress set (bench/support/stress.py): labelled designs with known defects, critiqued as external
images (no layout; the logo found by matching).

    python -m bench.critique_stress [--seed 14] [--count 400] [--out bench/results] [--no-engine]

Per class (palette, contrast, logo) and per defect family: TP/FP/FN/TN, precision and recall. A defect counts as
found only when a finding of its class has a box overlapping the defect's box; a finding that overlaps no defect is
a false positive. Also the false-positive rate on clean re-encodes (any finding at all) and the critic's time per
design. Targets: precision and recall >= 0.97 per class, clean re-encodes with findings <= 1 %.

Writes critique_stress.json and critique_stress.md to --out. Exit code 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "shared"))

from sgd.critique.logo import prepare_logo  # noqa: E402
from sgd.critique.measure import decode_design, measure_design  # noqa: E402
from sgd.critique.policy import load_critique_policy  # noqa: E402

from bench.stats import percentiles  # noqa: E402
from bench.support.stress import CLASSES, StressCase, cases  # noqa: E402

TARGET = 0.97
CLEAN_FP_TARGET = 0.01
KIND_CLASS = {"palette": "palette", "contrast": "contrast", "logo_safe_zone": "logo", "logo": "logo"}


def _overlaps(box: Any, other: Any) -> bool:
    if box is None:
        return True  # a finding without a box is about the whole design
    x, y, w, h = box
    ox, oy, ow, oh = other
    return x < ox + ow and ox < x + w and y < oy + oh and oy < y + h


def judge(case: StressCase, violations: list[dict[str, Any]]) -> dict[str, str]:
    """Per class: "tp", "fn", "fp", "tn", "fp+tp" (found, plus a finding elsewhere) or "" (not scored)."""
    outcome: dict[str, str] = {}
    for kind in CLASSES:
        found = [v for v in violations if KIND_CLASS.get(v["kind"]) == kind]
        if kind in case.defects:
            hit = any(_overlaps(v.get("box"), defect) for v in found for defect in case.defects[kind])
            stray = any(not any(_overlaps(v.get("box"), defect) for defect in case.defects[kind]) for v in found)
            outcome[kind] = ("tp" if hit else "fn") + ("+fp" if stray else "")
        elif kind in case.clean:
            outcome[kind] = "fp" if found else "tn"
        else:
            outcome[kind] = ""
    return outcome


def run(seed: int, count: int, engine: bool = True) -> dict[str, Any]:
    policy = load_critique_policy()
    rows = []
    for case in cases(seed, count, engine=engine):
        logo = prepare_logo(case.logo_png) if case.logo_png else None
        image = decode_design(case.data)
        started = time.perf_counter()
        measurement = measure_design(image, case.canon, policy, logo=logo)  # type: ignore[arg-type]
        elapsed = (time.perf_counter() - started) * 1000
        rows.append({"name": case.name, "family": case.family, "notes": case.notes,
                     "outcome": judge(case, measurement.violations), "ms": round(elapsed, 1),
                     "size": list(image.size),
                     "findings": [{"kind": v["kind"], "severity": v["severity"], "box": v.get("box"),
                                   "message": v["message"][:200]} for v in measurement.violations]})
    return summarise(rows)


def _table(rows: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    for row in rows:
        outcome = row["outcome"].get(kind, "")
        for part in outcome.split("+") if outcome else []:
            counts[part] += 1
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return counts | {"precision": round(precision, 4), "recall": round(recall, 4)}


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_class = {kind: _table(rows, kind) for kind in CLASSES}
    families: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        families[row["family"]].append(row)
    by_family = {family: {kind: _table(members, kind) for kind in CLASSES} | {"cases": len(members)}
                 for family, members in families.items()}
    clean = families.get("clean_reencode", [])
    clean_fp = sum(bool(row["findings"]) for row in clean) / len(clean) if clean else 0.0
    met = all(table["precision"] >= TARGET and table["recall"] >= TARGET for table in by_class.values()) and \
        clean_fp <= CLEAN_FP_TARGET
    big = [row["ms"] for row in rows if row["size"] == [1080, 1080]]
    return {"cases": len(rows), "by_class": by_class, "by_family": by_family, "clean_reencode_fp_rate":
            round(clean_fp, 4), "met": met, "ms_all": percentiles([row["ms"] for row in rows]),
            "ms_1080": percentiles(big) if big else None, "rows": rows}


def markdown(result: dict[str, Any], seed: int) -> str:
    lines = [f"# Critique stress set (seed {seed}, {result['cases']} designs)", "",
             f"Targets: precision and recall >= {TARGET} per class; clean re-encodes with any finding <= "
             f"{CLEAN_FP_TARGET:.0%}. A defect is found only by a finding of its class whose box overlaps it.", "",
             "| Class | TP | FP | FN | TN | Precision | Recall |", "|---|---|---|---|---|---|---|"]
    for kind, table in result["by_class"].items():
        lines.append(f"| {kind} | {table['tp']} | {table['fp']} | {table['fn']} | {table['tn']} | "
                     f"{table['precision']:.3f} | {table['recall']:.3f} |")
    lines += ["", "| Family | cases | class | TP | FP | FN | TN |", "|---|---|---|---|---|---|---|"]
    for family, tables in sorted(result["by_family"].items()):
        for kind in CLASSES:
            table = tables[kind]
            if sum(table[part] for part in ("tp", "fp", "fn", "tn")):
                lines.append(f"| {family} | {tables['cases']} | {kind} | {table['tp']} | {table['fp']} | "
                             f"{table['fn']} | {table['tn']} |")
    lines += ["", f"Clean re-encodes with a finding: {result['clean_reencode_fp_rate']:.1%}", "",
              f"measure_design time, all designs (ms): {result['ms_all']}",
              f"measure_design time, 1080x1080 designs (ms): {result['ms_1080']}",
              "", f"Targets met: {'yes' if result['met'] else 'no'}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--no-engine", action="store_true", help="no design engine renders among the clean cases")
    args = parser.parse_args(argv)
    result = run(args.seed, args.count, engine=not args.no_engine)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "critique_stress.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    report = markdown(result, args.seed)
    (args.out / "critique_stress.md").write_text(report, encoding="utf-8")
    print(report)
    return 0 if result["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
