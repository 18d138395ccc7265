"""schemathesis against `sgd serve`: every operation of docs/openapi.json, every response checked against it.

    python -m bench.fuzz [--max-examples 60] [--seed 1] [--workers 2] [--out bench/results]
    python -m bench.fuzz --quick          # CI's slice: a few examples per operation (about a minute)

Starts `sgd serve` (no persistence, a temporary data directory) on a free port, mints a token for a fresh org,
and runs schemathesis (examples, coverage, fuzzing and stateful phases) with the checks not_a_server_error,
response_schema_conformance, status_code_conformance and content_type_conformance. The requests the server
actually answered are counted from its access log. Writes fuzz.json and fuzz.md; exit 1 on any failure or error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
CHECKS = ("not_a_server_error", "response_schema_conformance", "status_code_conformance",
          "content_type_conformance")
QUICK_EXAMPLES = 3


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(data_dir: Path) -> Iterator[str]:
    """`sgd serve` on a free port; yields its base URL."""
    port = _free_port()
    log = (data_dir / "serve.log").open("w")
    server = subprocess.Popen([_bin("sgd"), "--data-dir", str(data_dir), "serve", "--port", str(port),
                               "--no-persist"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=10).raise_for_status()
                break
            except httpx.HTTPError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"sgd serve did not start; see {data_dir / 'serve.log'}") from None
                time.sleep(0.3)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def answered_requests(data_dir: Path) -> int:
    """Requests `sgd serve` answered (its access log has one line each), the health probes included."""
    path = data_dir / "logs" / "access.log"
    return sum(1 for _ in path.open(encoding="utf-8")) if path.exists() else 0


def run(*, max_examples: int, seed: int, workers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sgd-fuzz-") as scratch:
        data_dir = Path(scratch)
        with serving(data_dir) as base:
            token = subprocess.run([_bin("sgd"), "--data-dir", str(data_dir), "token", "--org", "fuzz"], cwd=ROOT,
                                   capture_output=True, text=True, check=True).stdout.strip()
            command = [
                _bin("schemathesis"), "run", str(ROOT / "docs" / "openapi.json"), "--url", base,
                "-H", f"Authorization: Bearer {token}", "--checks", ",".join(CHECKS),
                "--max-examples", str(max_examples), "--seed", str(seed), "--workers", str(workers),
                "--request-timeout", "120", "--no-color", "--report", "json",
                "--report-json-path", str(data_dir / "report.json"), "--generation-database", "none",
            ]
            started = time.monotonic()
            completed = subprocess.run(command, cwd=data_dir, capture_output=True, text=True, check=False,
                                       env=os.environ | {"SCHEMATHESIS_TELEMETRY": "false"})
            elapsed = time.monotonic() - started
        report = json.loads((data_dir / "report.json").read_text()) if (data_dir / "report.json").exists() else {}
        requests = answered_requests(data_dir)
    test_cases = report.get("test_cases", {})
    return {
        "checks": list(CHECKS), "max_examples": max_examples, "seed": seed, "workers": workers,
        "exit_code": completed.returncode, "seconds": round(elapsed, 1), "requests": requests,
        "test_cases": test_cases.get("generated"), "failures": test_cases.get("with_failures", 0),
        "unique_failures": test_cases.get("unique_failures", 0), "errors": test_cases.get("errored", 0),
        "operations": report.get("operations", {}).get("tested"), "phases": report.get("phases"),
        "schemathesis": report.get("schemathesis_version"),
        "output_tail": completed.stdout[-6000:] if completed.returncode else completed.stdout[-1500:],
    }


def markdown(result: dict[str, Any]) -> str:
    verdict = "PASS" if result["exit_code"] == 0 and not result["failures"] else "FAIL"
    return "\n".join([
        "# schemathesis against `sgd serve`", "",
        f"`python -m bench.fuzz --max-examples {result['max_examples']} --seed {result['seed']} "
        f"--workers {result['workers']}` (schemathesis {result['schemathesis']})", "",
        "| requests answered | test cases | operations | failures | errors | seconds | verdict |",
        "|---|---|---|---|---|---|---|",
        f"| {result['requests']} | {result['test_cases']} | {result['operations']} | {result['failures']} | "
        f"{result['errors']} | {result['seconds']} | {verdict} |", "",
        f"Checks: {', '.join(result['checks'])}.", "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_EXAMPLES} examples per operation (CI)")
    parser.add_argument("--out", type=Path, default=None, help="write fuzz.json and fuzz.md here")
    args = parser.parse_args(argv)
    result = run(max_examples=QUICK_EXAMPLES if args.quick else args.max_examples, seed=args.seed,
                 workers=args.workers)
    print(markdown(result))
    if result["exit_code"] or result["failures"]:
        print(result["output_tail"])
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "fuzz.json").write_text(json.dumps(result, indent=2) + "\n")
        (args.out / "fuzz.md").write_text(markdown(result))
    return 0 if result["exit_code"] == 0 and not result["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())
