"""Cold-start benchmark: each HTTP-facing function's init (handler import + first invoke), in a fresh process;
and, as SnapStart runs it, restore + first invoke: the handler imported and primed once (its before-snapshot
hooks), then a fork of that process runs the after-restore hooks and the first invoke (see bench/_cold_child.py).

    python -m bench.cold_start [--runs 7] [--strict]
    python -m bench.cold_start --importtime RenderFunction

What is measured is the deployment package, as Lambda runs it: `sam build`'s output for the function and
its layers, on the Lambda runtime's Python (3.12) in isolated mode with no site-packages, plus the boto3
the runtime provides. Nothing from the development venv is on the path, and no bytecode is written: a
layer that ships without .pyc files pays for compiling on every cold start here, as it would on Lambda's
read-only /opt. Tracing is on, as deployed (X-Ray segments go to a daemon address nobody listens on).

One embedded moto server (provisioned from template.yaml) serves every run; its state is reset before each
run so that every first invocation does the same work.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script (python bench/cold_start.py): make sgd_local importable
    sys.path.insert(0, str(ROOT))

CHILD_SCRIPT = Path(__file__).with_name("_cold_child.py")
BUILD_DIR = ROOT / ".aws-sam" / "build"
RUNTIME_DIR = ROOT / "bench" / ".cache" / "lambda-runtime"  # what the python3.12 runtime ships: boto3
RUNTIME_PACKAGES = ("boto3==1.44.8",)
TARGET_MS = 500.0
RESTORED_TARGET_MS = 250.0  # restore + first invoke, median, every HTTP function
RESTORED_TARGETS = {"canon/get_canon.json": 50.0}  # ...and tighter for the hot read, with a canon or without
SEEDED_CANON_EVENT = "canon/put_canon.json"  # the canon a with_canon case starts from: this PUT's body
DEFAULT_RUNS = 7
# Release builds of Python (Lambda's included) freeze core stdlib modules; ask for it rather than depend
# on how this interpreter was built.
INTERPRETER_FLAGS = ("-I", "-S", "-X", "frozen_modules=on")
# Left out of the child's environment: PYTHON* changes the interpreter (PYTHONPROFILEIMPORTTIME...) and AWS_*
# could point boto3 at a real account. The function's Lambda environment goes on top of the rest of ours.
SCRUBBED_PREFIXES = ("PYTHON", "AWS_")
TRACE_ENVIRONMENT = {  # what Lambda sets when Tracing is Active
    "POWERTOOLS_TRACE_DISABLED": "false",
    "_X_AMZN_TRACE_ID": "Root=1-6745f0a0-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "PYTHONDONTWRITEBYTECODE": "1",
}


@dataclass(frozen=True)
class Case:
    """One function invoked with one example event."""

    function: str
    event_file: str  # under events/
    http: bool  # only HTTP invocations are held to the target; S3 notifications are asynchronous
    with_canon: bool = False  # the project has a canon (put by the canon function's own repository) before the run

    @property
    def event(self) -> dict[str, Any]:
        return json.loads((ROOT / "events" / self.event_file).read_text())

    @property
    def label(self) -> str:
        event = self.event
        if "routeKey" in event:
            state = {"canon/get_canon.json": " (no canon: 404)"}.get(self.event_file, "")
            return f"{self.function} {event['routeKey']}{' (with a canon)' if self.with_canon else state}"
        record = (event.get("Records") or [{}])[0]
        return f"{self.function} {record.get('eventSource', 'event')} {record.get('eventName', '')}".strip()


CASES = (
    Case("RenderFunction", "render/post_render.json", http=True),
    Case("IngestFunction", "ingest/s3_put_upload.json", http=False),
    Case("IngestFunction", "ingest/post_uploads.json", http=True),
    Case("CanonFunction", "canon/get_healthz.json", http=True),
    Case("CanonFunction", "canon/get_canon.json", http=True, with_canon=True),
    Case("CanonFunction", "canon/get_canon.json", http=True),
    Case("CritiqueFunction", "critique/post_critique.json", http=True),
)


class ChildFailed(RuntimeError):
    """The cold-start process crashed or printed no result."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def summarize(values: list[float]) -> dict[str, Any]:
    """min / median / p95 (nearest rank: with few runs, p95 is the slowest run) and the raw values."""
    ordered = sorted(values)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return {
        "min": ordered[0],
        "median": statistics.median(ordered),
        "p95": p95,
        "values": [round(v, 2) for v in values],
    }


def child_base_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith(SCRUBBED_PREFIXES)}


def pyenv_root() -> Path | None:
    """pyenv's root, from $PYENV_ROOT or `pyenv root` when pyenv is on PATH; no guessed home-directory paths."""
    if os.environ.get("PYENV_ROOT"):
        return Path(os.environ["PYENV_ROOT"])
    pyenv = shutil.which("pyenv")
    if pyenv:
        found = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False).stdout.strip()
        return Path(found) if found else None
    return None


def pyenv_pythons312() -> list[str]:
    """The python3.12 interpreters pyenv installed, newest first (empty without pyenv)."""
    root = pyenv_root()
    if root is None:
        return []
    found = glob.glob(str(root / "versions" / "3.12*" / "bin" / "python3.12"))
    return sorted(found, key=lambda path: [(int(part), "") if part.isdigit() else (-1, part)
                                           for part in Path(path).parents[1].name.split(".")], reverse=True)


def lambda_python() -> str:
    """The Lambda runtime's interpreter: a real CPython 3.12 (the layers hold cp312 wheels)."""
    candidates = [os.environ.get("SGD_BENCH_PYTHON", ""), str(Path(sys.base_prefix) / "bin" / "python3.12"),
                  shutil.which("python3.12") or "", *pyenv_pythons312()]
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 12))"],
                               capture_output=True, text=True, check=False)
        if probe.stdout.strip() == "True":
            return candidate
    raise SystemExit("no python3.12 found (the Lambda runtime); set SGD_BENCH_PYTHON")


def ensure_runtime_packages(python: str) -> Path:
    """The boto3 the Lambda runtime provides (the layers leave it out on purpose), installed once."""
    marker = RUNTIME_DIR / ".installed"
    if marker.exists() and marker.read_text() == " ".join(RUNTIME_PACKAGES):
        return RUNTIME_DIR
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade",
                    "--target", str(RUNTIME_DIR), *RUNTIME_PACKAGES], check=True)
    marker.write_text(" ".join(RUNTIME_PACKAGES))
    return RUNTIME_DIR


def built_paths(function: str, build_dir: Path = BUILD_DIR) -> list[str]:
    """sys.path as Lambda builds it: /var/task, then /opt/python (the last layer listed wins), then the runtime."""
    from sgd_local.template import load_template

    template = build_dir / "template.yaml"
    if not template.exists():
        raise SystemExit(f"no {template.relative_to(ROOT)}: run `make sam-build` (or bench.run without --no-build)")
    properties = load_template(template)["Resources"][function]["Properties"]
    layers = [layer["Ref"] for layer in properties.get("Layers") or [] if isinstance(layer, dict)]
    return [str(build_dir / properties["CodeUri"]), *(str(build_dir / layer / "python") for layer in reversed(layers)),
            str(RUNTIME_DIR)]


@dataclass
class Bench:
    """The embedded AWS and everything a cold-start child needs to reach it."""

    python: str
    aws: Any  # sgd_local.aws.LocalAws
    stack: Any  # sgd_local.template.Stack
    scratch: Path

    def reset_aws(self) -> None:
        """Forgets every table item and object, then recreates the template's tables and bucket."""
        request = urllib.request.Request(f"{self.aws.endpoint}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=30):
            pass
        self.aws.provision()

    def job(self, case: Case) -> dict[str, Any]:
        from sgd_local.aws import aws_environment
        from sgd_local.lambda_host import lambda_environment

        spec = self.stack.functions[case.function]
        qdrant_dir = Path(tempfile.mkdtemp(prefix="qdrant-", dir=self.scratch))  # /tmp is empty on a cold start
        paths = built_paths(case.function)
        environment = lambda_environment(
            spec, aws_environment(self.aws.endpoint) | {"SGD_QDRANT_PATH": str(qdrant_dir)} | TRACE_ENVIRONMENT
        ) | {"LAMBDA_TASK_ROOT": paths[0]}
        return {
            "function": spec.logical_id,
            "paths": paths,
            "handler": spec.handler,
            "timeout_s": spec.timeout_s,
            "memory_mb": spec.memory_mb,
            "environment": environment,
            "event": case.event,
            "request_id": str(uuid.uuid4()),
        }

    def cold_start(self, case: Case, extra_flags: tuple[str, ...] = (),
                   snapstart: bool = False) -> tuple[dict[str, Any], str]:
        """One fresh process (with snapstart: primed, then forked): (the child's timings, its stderr)."""
        self.reset_aws()
        if case.with_canon:
            self.seed_canon(case)
        job = self.job(case) | {"snapstart": snapstart}
        completed = subprocess.run(
            [self.python, *INTERPRETER_FLAGS, *extra_flags, str(CHILD_SCRIPT)],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=child_base_environment(),
            timeout=job["timeout_s"] + 60,
            check=False,
        )
        lines = completed.stdout.strip().splitlines()
        if completed.returncode != 0 or not lines:
            tail = "\n".join(completed.stderr.strip().splitlines()[-15:])
            raise ChildFailed(f"{case.label}: exit code {completed.returncode}\n{tail}")
        return json.loads(lines[-1]), completed.stderr

    def seed_canon(self, case: Case) -> None:
        """The canon of the event's org and project, written as the canon function writes it (its repository:
        the version and the cache item), so the first read is the usual one: a cache hit."""
        from sgd.composition import Adapters
        from sgd.settings import Settings
        from sgd.tenancy import Tenant

        from bench.support.seeds import seed_canon
        from sgd_local.aws import aws_environment
        from sgd_local.lambda_host import lambda_environment

        spec = self.stack.functions[case.function]
        settings = Settings.model_validate(lambda_environment(spec, aws_environment(self.aws.endpoint)))
        event = case.event
        org = event["requestContext"]["authorizer"]["jwt"]["claims"]["org"]
        project = event["pathParameters"]["project_id"]
        put = json.loads((ROOT / "events" / SEEDED_CANON_EVENT).read_text())
        seed_canon(Adapters.from_settings(settings, clients=self.aws.client), Tenant(org, project),
                   json.loads(put["body"]))

    def interpreter_floor_ms(self) -> float:
        """Wall time of `python -c pass`: what any Python process costs before the first line runs."""
        started = time.perf_counter()
        subprocess.run([self.python, *INTERPRETER_FLAGS, "-c", "pass"], env=child_base_environment(), check=True)
        return (time.perf_counter() - started) * 1000

    def framework_floor_ms(self) -> float:
        """`import fastapi` alone, from the built SharedLayer: the part of every HTTP cold start SGD's own
        code cannot shrink. Measured inside the child, so interpreter start-up is not in it."""
        script = ("import sys, time; sys.path[:0] = sys.argv[1:]; started = time.perf_counter(); import fastapi; "
                  "print((time.perf_counter() - started) * 1000)")
        completed = subprocess.run(
            [self.python, *INTERPRETER_FLAGS, "-c", script, str(BUILD_DIR / "SharedLayer" / "python"),
             str(RUNTIME_DIR)], env=child_base_environment(), capture_output=True, text=True, check=True)
        return float(completed.stdout.strip())


@contextmanager
def running_bench(python: str) -> Iterator[Bench]:
    """Starts and provisions one embedded moto server for the whole run (in this process, never a child's)."""
    from sgd_local.aws import LocalAws
    from sgd_local.template import read_stack

    stack = read_stack(ROOT)
    with tempfile.TemporaryDirectory(prefix="sgd-bench-") as scratch:
        # No journal: a reset must forget everything (a journal would replay earlier runs' writes into the next).
        aws = LocalAws(stack, Path(scratch) / "data", journal=False).start()
        try:
            aws.provision()
            yield Bench(python=python, aws=aws, stack=stack, scratch=Path(scratch))
        finally:
            aws.stop()


def select_cases(functions: list[str] | None) -> list[Case]:
    if not functions:
        return list(CASES)
    wanted = {resolve_function(name) for name in functions}
    return [case for case in CASES if case.function in wanted]


def resolve_function(name: str) -> str:
    """Accepts the logical id (RenderFunction) or the short name (render)."""
    for logical_id in dict.fromkeys(case.function for case in CASES):
        if name.lower() in (logical_id.lower(), logical_id.removesuffix("Function").lower()):
            return logical_id
    known = ", ".join(dict.fromkeys(case.function for case in CASES))
    raise SystemExit(f"unknown function {name!r}; known: {known}")


def measure(
    runs: int = DEFAULT_RUNS,
    python: str | None = None,
    functions: list[str] | None = None,
    progress: Callable[[str], None] = log,
) -> dict[str, Any]:
    """Warm-up, then `runs` rounds over every case (interleaved, so drift hits every case alike)."""
    cases = select_cases(functions)
    python = python or lambda_python()
    ensure_runtime_packages(python)
    timings: dict[Case, list[dict[str, Any]]] = {case: [] for case in cases}
    restored: dict[Case, list[dict[str, Any]]] = {case: [] for case in cases}
    errors: dict[Case, str] = {}
    floor: list[float] = []
    framework: list[float] = []
    with running_bench(python) as bench:
        missing = set(bench.stack.functions) - {case.function for case in CASES}
        if missing:
            progress(f"note: no benchmark event for {sorted(missing)}; add a Case to bench/cold_start.py")
        progress(f"embedded AWS at {bench.aws.endpoint}; warm-up (untimed) for {len(cases)} cases...")
        bench.interpreter_floor_ms()
        for case in cases:
            try:
                bench.cold_start(case)
            except ChildFailed as failure:
                errors[case] = str(failure)
                progress(f"  ERROR {failure}")
        for round_number in range(1, runs + 1):
            floor.append(bench.interpreter_floor_ms())
            framework.append(bench.framework_floor_ms())
            for case in cases:
                if case in errors:
                    continue
                try:
                    timings[case].append(bench.cold_start(case)[0])
                    restored[case].append(bench.cold_start(case, snapstart=True)[0])
                except ChildFailed as failure:
                    errors[case] = str(failure)
                    progress(f"  ERROR {failure}")
            progress(f"  round {round_number}/{runs} done")
    return report(cases, timings, errors, floor, framework, runs, python, restored)


PHASES = ("host_ms", "import_ms", "first_invoke_ms", "total_ms", "cpu_ms")
RESTORED_PHASES = ("prime_ms", "restore_hooks_ms", "first_invoke_ms", "total_ms", "cpu_ms")


def restored_target(case: Case) -> float:
    return RESTORED_TARGETS.get(case.event_file, RESTORED_TARGET_MS)


def verdict(case: Case, total: dict[str, Any]) -> str:
    within = total["median"] <= TARGET_MS and total["p95"] <= TARGET_MS
    if case.http:
        return "PASS" if within else "FAIL"
    return "info: within" if within else "info: over"  # not gated: nobody waits on an S3 notification


def report(
    cases: list[Case],
    timings: dict[Case, list[dict[str, Any]]],
    errors: dict[Case, str],
    floor: list[float],
    framework: list[float],
    runs: int,
    python: str,
    restored: dict[Case, list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    results = []
    for case in cases:
        samples = timings[case]
        entry: dict[str, Any] = {
            "function": case.function,
            "event": f"events/{case.event_file}",
            "label": case.label,
            "http": case.http,
        }
        if case in errors or not samples:
            entry |= {"verdict": "ERROR", "error": errors.get(case, "no samples")}
        else:
            entry |= {
                "status_codes": sorted({str(sample["status_code"]) for sample in samples}),
                "handler_error": next((sample["error"] for sample in samples if not sample["ok"]), None),
                **{phase: summarize([sample[phase] for sample in samples]) for phase in PHASES},
            }
            entry["verdict"] = verdict(case, entry["total_ms"])
            primed = (restored or {}).get(case) or []
            if primed:
                within = summarize([sample["total_ms"] for sample in primed])["median"] <= restored_target(case)
                entry["snapstart"] = {
                    "target_ms": restored_target(case),
                    "status_codes": sorted({str(sample["status_code"]) for sample in primed}),
                    **{phase: summarize([sample[phase] for sample in primed]) for phase in RESTORED_PHASES},
                    "verdict": ("PASS" if within else "FAIL") if case.http else ("info: within" if within
                                                                               else "info: over")}
        results.append(entry)
    gated = [entry for entry in results if entry["http"]]
    snapstart_gated = [entry["snapstart"] for entry in gated if entry.get("snapstart")]
    return {
        "target_ms": TARGET_MS,
        "runs": runs,
        "python": python,
        "interpreter_flags": list(INTERPRETER_FLAGS),
        "interpreter_floor_ms": summarize(floor) if floor else None,
        "framework_floor_ms": summarize(framework) if framework else None,
        "cases": results,
        "verdict": "PASS" if gated and all(entry["verdict"] == "PASS" for entry in gated) else "FAIL",
        "snapstart_verdict": "PASS" if snapstart_gated and all(snap["verdict"] == "PASS"
                                                              for snap in snapstart_gated) else "FAIL",
    }


def print_report(result: dict[str, Any]) -> None:
    print(
        f"\nCold init of the built package = bootstrap + handler import + first invoke, in a fresh process; "
        f"{result['runs']} runs; "
        f"target: median and p95 <= {result['target_ms']:.0f} ms (HTTP)"
    )
    header = (
        f"{'case':<56} {'status':>6} {'host':>6} {'import':>7} {'invoke':>7} {'cpu':>7} "
        f"{'min':>7} {'median':>7} {'p95':>7}  verdict"
    )
    print(header)
    print("-" * len(header))
    for entry in result["cases"]:
        if entry["verdict"] == "ERROR":
            print(f"{entry['label']:<56} {'-':>6}  ERROR")
            continue
        medians = " ".join(
            f"{entry[phase]['median']:>{width}.0f}"
            for phase, width in (("host_ms", 6), ("import_ms", 7), ("first_invoke_ms", 7), ("cpu_ms", 7))
        )
        total = entry["total_ms"]
        print(
            f"{entry['label']:<56} {'/'.join(entry['status_codes']):>6} {medians} "
            f"{total['min']:>7.0f} {total['median']:>7.0f} {total['p95']:>7.0f}  {entry['verdict']}"
        )
    floor = result["interpreter_floor_ms"]
    if floor:
        print(
            f"{'interpreter floor (python -c pass, wall)':<56} {'':>6} {'':>6} {'':>7} {'':>7} {'':>7} "
            f"{floor['min']:>7.0f} {floor['median']:>7.0f} {floor['p95']:>7.0f}  info"
        )
    framework = result.get("framework_floor_ms")
    if framework:
        print(
            f"{'framework floor (import fastapi alone)':<56} {'':>6} {'':>6} {'':>7} {'':>7} {'':>7} "
            f"{framework['min']:>7.0f} {framework['median']:>7.0f} {framework['p95']:>7.0f}  info"
        )
    print(
        "ms. host (the stdlib bootstrap), import, invoke and cpu (CPU time of the whole cold init) "
        "are medians;\nmin/median/p95 are of the total wall time. The floor is not part of the cold init."
    )
    for entry in result["cases"]:
        if entry.get("error"):
            print(f"\n{entry['label']} failed:\n{entry['error']}")
        elif entry.get("handler_error"):
            print(f"\n{entry['label']}: the handler raised: {json.dumps(entry['handler_error'])[:2000]}")
    primed = [entry for entry in result["cases"] if entry.get("snapstart")]
    if primed:
        print("\nSnapStart: restore + first invoke, from a primed process forked per run (the restore itself, "
              "Lambda loading the snapshot, is not modelled)")
        header = f"{'case':<56} {'status':>6} {'prime':>7} {'hooks':>6} {'invoke':>7} {'median':>7} {'p95':>7} " \
                 f"{'target':>7}  verdict"
        print(header)
        print("-" * len(header))
        for entry in primed:
            snap = entry["snapstart"]
            print(f"{entry['label']:<56} {'/'.join(snap['status_codes']):>6} {snap['prime_ms']['median']:>7.0f} "
                  f"{snap['restore_hooks_ms']['median']:>6.1f} {snap['first_invoke_ms']['median']:>7.0f} "
                  f"{snap['total_ms']['median']:>7.0f} {snap['total_ms']['p95']:>7.0f} {snap['target_ms']:>7.0f}  "
                  f"{snap['verdict']}")
    print(f"\nOverall: {result['verdict']}")


# --importtime -------------------------------------------------------------------------------------------
PHASE_MARKER = "bench-phase: "  # written to stderr by _cold_child.py between phases


@dataclass(frozen=True)
class ImportCost:
    module: str
    depth: int
    self_us: int
    cumulative_us: int
    phase: str  # interpreter-startup, local-host, handler-import or first-invoke


def parse_importtime(stderr: str) -> list[ImportCost]:
    """Rows of `-X importtime` ('import time: <self us> | <cumulative us> | <indented module>'), by phase."""
    costs = []
    phase = "interpreter-startup"
    for line in stderr.splitlines():
        if line.startswith(PHASE_MARKER):
            phase = line.removeprefix(PHASE_MARKER).strip()
            continue
        if not line.startswith("import time:"):
            continue
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue  # the header row
        name = fields[2].rstrip()
        indent = len(name) - len(name.lstrip())
        costs.append(ImportCost(name.strip(), (indent - 1) // 2, int(fields[0]), int(fields[1]), phase))
    return costs


def importtime(function: str, python: str | None = None, top: int = 25) -> list[ImportCost]:
    """Runs one cold start of `function` under -X importtime; prints and returns its costliest imports."""
    logical_id = resolve_function(function)
    case = next(case for case in CASES if case.function == logical_id)
    python = python or lambda_python()
    ensure_runtime_packages(python)
    with running_bench(python) as bench:
        bench.cold_start(case)  # warm the file cache
        timings, stderr = bench.cold_start(case, extra_flags=("-X", "importtime"))
    costs = sorted(parse_importtime(stderr), key=lambda cost: cost.cumulative_us, reverse=True)
    print(
        f"\n{case.label} under -X importtime (the profiler inflates every number): total "
        f"{timings['total_ms']:.0f} ms = local host {timings['host_ms']:.0f} + handler import "
        f"{timings['import_ms']:.0f} + first invoke {timings['first_invoke_ms']:.0f}"
    )
    print("The handler module itself is loaded by importlib.import_module, which -X importtime does not log:")
    print("its imports show up at depth 0.")
    print(f"\nTop {top} imports by cumulative time (each includes everything it imported):")
    print(f"{'cumulative ms':>13} {'self ms':>8} {'depth':>5}  {'phase':<19} module")
    for cost in costs[:top]:
        print(
            f"{cost.cumulative_us / 1000:>13.1f} {cost.self_us / 1000:>8.1f} {cost.depth:>5}  "
            f"{cost.phase:<19} {cost.module}"
        )
    print("\nTop 10 by self time (the module's own code, without its imports):")
    for cost in sorted(costs, key=lambda cost: cost.self_us, reverse=True)[:10]:
        print(f"{cost.self_us / 1000:>13.1f} ms  {cost.phase:<19} {cost.module}")
    top_level_us = sum(cost.cumulative_us for cost in costs if cost.phase == "handler-import" and cost.depth == 0)
    print(
        f"\nThe handler module's own code (e.g. create_app), not an import: "
        f"{timings['import_ms'] - top_level_us / 1000:.0f} ms"
    )
    by_package: dict[str, int] = {}
    for cost in costs:
        package = cost.module.split(".")[0]
        by_package[package] = by_package.get(package, 0) + cost.self_us
    print("\nTop 15 top-level packages (sum of the self times of all their modules):")
    for package, self_us in sorted(by_package.items(), key=lambda item: item[1], reverse=True)[:15]:
        print(f"{self_us / 1000:>13.1f} ms  {package}")
    print("\nImport time by phase (sum of self times):")
    for phase in dict.fromkeys(cost.phase for cost in parse_importtime(stderr)):
        in_phase = [cost for cost in costs if cost.phase == phase]
        print(f"{sum(cost.self_us for cost in in_phase) / 1000:>13.1f} ms  {phase} ({len(in_phase)} modules)")
    return costs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cold_start",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help=f"timed runs per case ({DEFAULT_RUNS})")
    parser.add_argument("--function", action="append", help="only this function (repeatable)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--importtime",
        metavar="FUNCTION",
        help="diagnostic: one cold start of FUNCTION under -X importtime, its costliest imports",
    )
    parser.add_argument("--top", type=int, default=25, help="rows of the --importtime list (25)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.importtime:
        importtime(args.importtime, top=args.top)
        return 0
    result = measure(runs=args.runs, functions=args.function)
    print_report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    errored = any(entry["verdict"] == "ERROR" for entry in result["cases"])
    return 1 if errored or (args.strict and result["verdict"] != "PASS") else 0


if __name__ == "__main__":
    raise SystemExit(main())
