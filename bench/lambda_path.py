"""What the latency benches share: a client that drives the full Lambda path in process, and their main()."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.stats import latency_table
from sgd_local.apigw import HttpRequest
from sgd_local.runtime import LocalRuntime, RuntimeOptions

ROOT = Path(__file__).resolve().parents[1]


class Client:
    """Requests as `sgd serve` handles them: an API Gateway v2 event, the emulated JWT authorizer, a warm function
    worker (Powertools -> Mangum -> FastAPI), and the embedded moto server for S3 and DynamoDB."""

    def __init__(self, runtime: LocalRuntime, org: str = "bench") -> None:
        self.runtime = runtime
        self.token = runtime.token(org)
        from bench.support.seeds import lift_rate_limits

        lift_rate_limits(runtime, org)

    def post(self, path: str, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        """(elapsed ms, JSON body); anything but a 200 is an error (a bench measures successes only)."""
        request = HttpRequest("POST", path, "", {"content-type": "application/json",
                                                 "authorization": f"Bearer {self.token}"}, json.dumps(body).encode())
        started = time.perf_counter()
        response = self.runtime.handle_http(request)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"{path} failed: {response.status} {response.body[:500]!r}")
        return elapsed, response.json()


Measure = Callable[[LocalRuntime, Client, int, int], dict[str, Any]]  # (runtime, client, samples, warmup)


def latency_main(argv: list[str] | None, *, name: str, doc: str | None, title: str, labels: dict[str, str],
                 measure: Measure) -> int:
    """Parses --samples/--warmup/--out, measures in a fresh local runtime, writes {name}.json and {name}.md."""
    parser = argparse.ArgumentParser(prog=f"python -m bench.{name}", description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=25)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    with (tempfile.TemporaryDirectory(prefix="sgd-bench-") as data_dir,
          LocalRuntime(RuntimeOptions(data_dir=Path(data_dir), persist=False, throttle=False), root=ROOT) as runtime):
        results = measure(runtime, Client(runtime), args.samples, args.warmup)
    text = latency_table(f"{title} ({args.samples} samples each, after warm-up; full Lambda path, local engine)",
                         labels, results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / f"{name}.md").write_text(text)
    sys.stdout.write(text)
    return 0
