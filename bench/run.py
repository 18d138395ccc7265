"""Runs every benchmark and writes bench/results/latest.json and bench/results/latest.md.

    python -m bench.run [--runs 7] [--no-build] [--skip-size] [--skip-gateway] [--sam PATH] [--strict]

Exit code 0 even when a target is missed (this is a measurement, not a gate) unless --strict is given;
1 when something could not be measured at all (a crashed cold start, a failed sam build).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import (
    canon_accuracy,
    cold_start,
    critique_accuracy,
    critique_latency,
    gateway_overhead,
    ingest_latency,
    package_size,
    render_latency,
    timing_budgets,
)
from bench.stats import verdict_rows

RESULTS_DIR = Path(__file__).resolve().parent / "results"
ROOT = cold_start.ROOT


def first_line_with(path: str, prefix: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def machine_info() -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": first_line_with("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "memory_gb": memory_gb(),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "git_commit": commit or None,
    }


def memory_gb() -> float | None:
    total = first_line_with("/proc/meminfo", "MemTotal")  # "24684096 kB"
    return round(int(total.split()[0]) / 1024**2, 1) if total else None


def load_average() -> list[float] | None:
    """Other work on the machine shows up in cold starts: record how busy it was."""
    return [round(value, 2) for value in os.getloadavg()] if hasattr(os, "getloadavg") else None


def write_atomically(path: Path, text: str) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


# Markdown -----------------------------------------------------------------------------------------------
def ms(stats: dict[str, Any], key: str) -> str:
    return f"{stats[key]:.0f}"


def summary_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows = []
    cold = results.get("cold_start")
    if cold:
        target = f"≤ {cold['target_ms']:.0f} ms (median and p95)"
        for case in cold["cases"]:
            name = f"Cold init: {case['label']}"
            if case["verdict"] == "ERROR":
                rows.append((name, target, "crashed (see latest.json)", "ERROR"))
                continue
            total = case["total_ms"]
            measured = f"median {ms(total, 'median')} ms, p95 {ms(total, 'p95')} ms"
            rows.append((name, target if case["http"] else "not gated (S3, async)", measured, case["verdict"]))
        framework = cold.get("framework_floor_ms")
        if framework:
            rows.append(
                (
                    "Framework floor: `import fastapi` alone, from the built layer (inside every HTTP cold init)",
                    "-",
                    f"median {ms(framework, 'median')} ms, p95 {ms(framework, 'p95')} ms",
                    "info",
                )
            )
        floor = cold["interpreter_floor_ms"]
        if floor:
            rows.append(
                (
                    "Interpreter floor: `python -c pass` (wall, not in cold init)",
                    "-",
                    f"median {ms(floor, 'median')} ms, p95 {ms(floor, 'p95')} ms",
                    "info",
                )
            )
    sizes = results.get("package_size")
    if sizes and "error" in sizes:
        rows.append(("Package size", f"≤ {package_size.TARGET_MB:.0f} MB", "sam build failed", "ERROR"))
    elif sizes:
        for function in sizes["functions"]:
            parts = " + ".join(["code", *function["layers"]])
            rows.append(
                (
                    f"Package (unzipped): {function['function']} ({parts})",
                    f"≤ {sizes['target_mb']:.0f} MB",
                    f"{function['total_mb']:.1f} MB",
                    function["verdict"],
                )
            )
    gateway = results.get("model_gateway")
    if gateway:
        for label, key in (("gateway only", "gateway_only"),
                           ("with budget reserve/settle + usage ledger on moto DynamoDB", "with_budget_and_ledger")):
            overhead = gateway[key]["overhead_ms"]
            rows.append((f"Model gateway overhead per call, {label} (fake provider at zero latency)", "reported",
                         f"p50 {overhead['p50']:.2f} ms, p95 {overhead['p95']:.2f} ms", "info"))
        budget = gateway["budget"]
        rows.append((f"Org budget: {budget['concurrent_calls']} concurrent calls, budget fits "
                     f"{gateway_overhead.CALLS_THE_BUDGET_FITS}", "spent ≤ budget",
                     f"served {budget['served']}, refused {budget['refused_count']} ({', '.join(budget['refused'])}), "
                     f"provider requests {budget['provider_requests']}, spent ${budget['spent_usd']:.2f} of "
                     f"${budget['limit_usd']:.2f}", budget["verdict"]))
    rows += product_rows(results.get("product") or {})
    return rows


def product_rows(product: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The product benchmarks (render, ingest/canon latency, critique, timing budgets, canon accuracy), as each
    wrote its results."""
    rows = []
    rows += verdict_rows(render_latency.LABELS, product.get("render_latency") or {})
    ingest = product.get("ingest_latency")
    if ingest:
        labels = {"upload_to_indexed_p95": ("upload → evidence indexed, 5-page PDF", "upload_to_indexed_ms"),
                  "canon_derive_p95": ("POST /canon/derive, local engine", "canon_derive_ms"),
                  "canon_get_p95": ("GET /canon/{project_id}", "canon_get_ms")}
        for key, (label, stats_key) in labels.items():
            stats = ingest["latency"][stats_key]
            rows.append((label, f"p95 ≤ {ingest_latency.TARGETS_MS[key]:g} ms",
                         f"p50 {stats['p50']} ms, p95 {stats['p95']} ms", ingest["verdicts"][key]))
    rows += verdict_rows(critique_latency.LABELS, product.get("critique_latency") or {})
    accuracy = product.get("critique_accuracy")
    if accuracy:
        for kind, entry in accuracy["confusion"].items():
            met = entry["precision"] >= accuracy["target"] and entry["recall"] >= accuracy["target"]
            rows.append((f"Critique accuracy: {kind} ({accuracy['designs']} labelled designs)",
                         f"precision, recall ≥ {accuracy['target']}",
                         f"precision {entry['precision']:.2f}, recall {entry['recall']:.2f}",
                         "PASS" if met else "FAIL"))
        renders = accuracy["renders"]
        rows.append(("Critique of SGD's own renders (with and without layout)", "0 with violations",
                     f"{renders['with_violations']} of {renders['count']}",
                     "PASS" if renders["with_violations"] == 0 else "FAIL"))
    rows += timing_budgets.summary_rows(product.get("timing_budgets") or {})
    for kit in product.get("canon_accuracy") or []:
        scores = [value for value in kit.get("fields", {}).values() if isinstance(value, dict)]
        perfect = all(score.get("precision", 1) == 1 and score.get("recall", 1) == 1 and score.get("equal", True)
                      for score in scores)
        rows.append((f"Canon accuracy: {kit['kit']}", "precision = recall = 1.00 per field",
                     "all fields 1.00" if perfect else "see canon_accuracy.md", "PASS" if perfect else "FAIL"))
    return rows


def run_product_benchmarks() -> dict[str, Any]:
    """Each product bench writes its own JSON and Markdown next to latest.*; their numbers join the summary."""
    out = ["--out", str(RESULTS_DIR)]
    render_latency.main(out)
    ingest_latency.main(out)
    canon_accuracy.main([*out, "--generated"])
    critique_latency.main(out)
    critique_accuracy.main(out)
    timing_budgets.main(out)
    return {name: json.loads((RESULTS_DIR / f"{name}.json").read_text())
            for name in ("render_latency", "ingest_latency", "canon_accuracy", "critique_latency",
                         "critique_accuracy", "timing_budgets")}


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# SGD benchmark results",
        "",
        f"Measured {results['measured_at']} with `{results['command']}`. Overall: **{results['verdict']}**.",
        "",
        "| Measurement | Target | Measured | Verdict |",
        "|---|---|---|---|",
    ]
    lines += [f"| {' | '.join(row)} |" for row in summary_rows(results)]

    cold = results.get("cold_start")
    if cold:
        lines += [
            "",
            f"## Cold init breakdown (ms, medians of {cold['runs']} runs unless noted)",
            "",
            "A fresh `python3.12 -I -S` process per run on `sam build`'s output (function + layers + the runtime's "
            "boto3), no bytecode written, tracing on, warm file cache. total = bootstrap (stdlib only) + handler "
            "import + first invoke; CPU is the CPU time of the same span.",
            "",
            "| Case | Status | Bootstrap | Handler import | First invoke | CPU | Total min | Total median "
            "| Total p95 |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for case in cold["cases"]:
            if case["verdict"] == "ERROR":
                lines.append(f"| {case['label']} | crashed | | | | | | | |")
                continue
            lines.append(
                f"| {case['label']} | {'/'.join(case['status_codes'])} | {ms(case['host_ms'], 'median')} "
                f"| {ms(case['import_ms'], 'median')} | {ms(case['first_invoke_ms'], 'median')} "
                f"| {ms(case['cpu_ms'], 'median')} | {ms(case['total_ms'], 'min')} | {ms(case['total_ms'], 'median')} "
                f"| {ms(case['total_ms'], 'p95')} |"
            )

    sizes = results.get("package_size")
    if sizes and "error" not in sizes:
        lines += ["", f"## Layers: {package_size.LARGEST_PACKAGES} largest packages (MB, unzipped)", ""]
        for layer in sizes["layers"]:
            packages = ", ".join(f"{p['name']} {p['mb']:.1f}" for p in layer["largest_packages"])
            lines.append(f"- **{layer['layer']}** ({layer['mb']:.1f} MB): {packages}")
        duplicated = [function for function in sizes["functions"] if function["duplicated_mb"]]
        if duplicated:
            lines += ["", "## Packages in more than one of a function's layers (only the first copy is used)", ""]
        for function in duplicated:
            total = sum(function["duplicated_mb"].values())
            biggest = ", ".join(f"{name} {mb:.1f}" for name, mb in list(function["duplicated_mb"].items())[:6])
            lines.append(f"- {function['function']}: {total:.1f} MB of extra copies: {biggest}, ...")

    machine = results["machine"]
    lines += [
        "",
        "## Machine",
        "",
        f"- nproc: {machine['nproc']}",
        f"- CPU: {machine['cpu_model']}",
        f"- memory: {machine['memory_gb']} GB",
        f"- Python: {machine['python']} ({machine['python_executable']})",
        f"- platform: {machine['platform']}",
        f"- load average (1, 5, 15 min) before: {results['load_average']['before']}, "
        f"after: {results['load_average']['after']}",
    ]
    if machine["git_commit"]:
        lines.append(f"- git commit: {machine['git_commit']}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=cold_start.DEFAULT_RUNS,
        help=f"timed cold starts per case ({cold_start.DEFAULT_RUNS})",
    )
    parser.add_argument("--no-build", action="store_true", help="size the existing .aws-sam/build")
    parser.add_argument("--skip-size", action="store_true", help="no sam build and package sizes")
    parser.add_argument("--skip-gateway", action="store_true", help="no model gateway overhead and budget runs")
    parser.add_argument("--skip-product", action="store_true",
                        help="no render, ingest/canon/critique latency, timing budget and accuracy runs")
    parser.add_argument("--sam", help="SAM CLI to run (default: $SAM, .venv-tools/bin/sam, sam on PATH)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    results: dict[str, Any] = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": " ".join(["python -m bench.run", *(argv if argv is not None else sys.argv[1:])]),
        "machine": machine_info(),
        "load_average": {"before": load_average()},
    }
    failed_to_measure = False
    if not args.skip_size:
        try:
            results["package_size"] = package_size.measure(build=not args.no_build, sam=args.sam)
            package_size.print_report(results["package_size"])
        except package_size.BuildFailed as failure:
            print(failure, file=sys.stderr)
            results["package_size"] = {"error": str(failure), "verdict": "ERROR"}
            failed_to_measure = True
    results["cold_start"] = cold_start.measure(runs=args.runs)
    cold_start.print_report(results["cold_start"])
    if not args.skip_gateway:
        results["model_gateway"] = gateway_overhead.measure()
        gateway_overhead.print_report(results["model_gateway"])
    if not args.skip_product:
        results["product"] = run_product_benchmarks()
    results["load_average"]["after"] = load_average()
    failed_to_measure |= any(case["verdict"] == "ERROR" for case in results["cold_start"]["cases"])

    verdicts = [part["verdict"] for key in ("cold_start", "package_size", "model_gateway")
                if (part := results.get(key))]
    verdicts += [row[3] for row in product_rows(results.get("product") or {})]
    results["verdict"] = "PASS" if all(verdict == "PASS" for verdict in verdicts) else "FAIL"

    RESULTS_DIR.mkdir(exist_ok=True)
    write_atomically(RESULTS_DIR / "latest.json", json.dumps(results, indent=2) + "\n")
    write_atomically(RESULTS_DIR / "latest.md", markdown(results))
    print(f"\nOverall: {results['verdict']}; wrote {RESULTS_DIR.relative_to(ROOT)}/latest.json and latest.md")
    return 1 if failed_to_measure or (args.strict and results["verdict"] != "PASS") else 0


if __name__ == "__main__":
    raise SystemExit(main())
