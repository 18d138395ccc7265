"""Load suite: `sgd serve` on loopback under an open-loop generator (soak, spike, saturation, fairness).

    python -m bench.load [--scenario soak|spike|saturation|fairness]... [--scale 1.0] [--out bench/results]

Each scenario starts its own `sgd serve` (the real command, a separate process tree) and drives it from this
process with an open-loop generator: requests are sent at their scheduled times whatever the server does, each
on its own task over a pooled keep-alive client, and latency is counted from the scheduled time, so a slow
server cannot slow the generator down and hide its own queueing (no coordinated omission). Every run is bounded
in count and time (--scale shortens them) and only talks to 127.0.0.1.

- soak: uncached 1080x1080 renders, 5 rps, 120 s, state saving on, from 1,000 stored designs.
  Must hold: p95 <= 600 ms, no 5xx. A 60 s control run without saving shows what saving costs.
- spike: 60 % GET /canon, 20 % cached renders, 15 % uncached, 5 % critique; 50 rps for 60 s, from cold.
  Must hold: no 5xx (the stage throttle's 429s are expected); p95 of the requests served <= 2 s.
- saturation: uncached renders at rising rates, 10 s a step. Reported: the rate where p95 passes 2 s;
  shed load comes back as 429/503 in a documented shape, never a hang or a 500.
- fairness: orgs with the same render limit (10 per 10 s); one at 0.8 rps alone, beside a neighbour keeping to
  its limit (a control), and beside another flooding at 10x its limit, in two alternating rounds of 30 s each.
  Must hold: the first org's p95 and success rate with the flood within 10 % of the solo run.
- keepalive: GET /canon one at a time on one keep-alive connection. Must hold: p95 <= 20 ms.

The report includes the generator's own CPU share and the server's (its whole process tree), and the machine's
load average before and after: on a shared 2-core machine the absolute numbers move with the neighbours' load.
Writes load.json and load.md to --out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.stats import percentiles

ROOT = Path(__file__).resolve().parents[1]
CLIENT_TIMEOUT_S = 35.0  # past API Gateway's 30 s: a request the gateway forgot would show as a client timeout
CANON = {"palette_hex": ["#0B3D2E", "#F2E8CF", "#E07A5F", "#FFFFFF"], "forbidden_hex": [],
         "fonts": ["Liberation Sans"], "voice": {"tone": "warm"}, "logo_safe_zone_pct": 8}
PROJECT = "load"


@dataclass
class Shot:
    kind: str
    org: str
    status: int  # 0: no answer (client timeout or connection error)
    latency_ms: float
    gateway_shape: bool = False  # a success, or an error in a documented shape (API Gateway's or the API's)


@dataclass
class Request:
    kind: str
    org: str
    method: str
    path: str
    body: dict[str, Any] | None = None


# -- the server under test -------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_tree_cpu_s(root_pid: int) -> float:
    """CPU seconds (user + system, reaped children included) of a process and all its descendants, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = sum(int(value) for value in fields[11:15]) / ticks  # utime stime cutime cstime
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(cpu.get(pid, 0.0) for pid in tree)


class Server:
    """`sgd serve` in its own process tree, on a fresh data dir."""

    def __init__(self, flags: list[str], data_dir: Path) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._log = (data_dir / "serve.out").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sgd_local.cli", "--data-dir", str(data_dir), "serve", "--port", str(self.port),
             *flags], cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, env=os.environ | {"PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + 300
        while not (data_dir / "runtime.json").exists():  # written once the snapshots are taken and it serves
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sgd serve did not start; see {data_dir / 'serve.out'}")
            time.sleep(0.2)
        self.state = json.loads((data_dir / "runtime.json").read_text())
        self._tokens: dict[str, str] = {}

    def token(self, org: str) -> str:
        if org not in self._tokens:
            from sgd_local.auth import LocalSigningKey
            from sgd_local.template import read_stack

            authorizer = read_stack(ROOT).authorizer
            assert authorizer is not None
            self._tokens[org] = LocalSigningKey(self.data_dir / "keys").issue(authorizer, org=org,
                                                                               ttl_seconds=3600)
        return self._tokens[org]

    def adapters(self) -> Any:
        """The composition root's adapters over this server's embedded AWS, configured as its functions are."""
        from sgd.composition import Adapters
        from sgd.settings import Settings

        from sgd_local.aws import LocalAws
        from sgd_local.runtime import local_environment
        from sgd_local.template import read_stack

        stack = read_stack(ROOT)
        aws = LocalAws(stack, self.data_dir, endpoint=self.state["aws_endpoint"])
        environment = local_environment(stack.functions["CanonFunction"], aws_endpoint=aws.endpoint,
                                        data_dir=self.data_dir, root=ROOT)
        return Adapters.from_settings(Settings.model_validate(environment), clients=aws.client)

    def cpu_s(self) -> float:
        return process_tree_cpu_s(self.process.pid)

    def stop(self) -> float:
        """SIGTERM, as Ctrl-C: the clean stop that saves state; returns how long it took."""
        started = time.perf_counter()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=300)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()
        return time.perf_counter() - started


def call(server: Server, request: Request) -> httpx.Response:
    """One synchronous request (setup, not measured)."""
    headers = {"authorization": f"Bearer {server.token(request.org)}"}
    return httpx.request(request.method, server.base + request.path, json=request.body, headers=headers, timeout=60)


def setup_project(server: Server, org: str) -> str:
    """A canon and one rendered design in the org's project; returns the design's asset id (for critiques)."""
    put = call(server, Request("setup", org, "PUT", f"/canon/{PROJECT}", CANON))
    assert put.status_code == 200, put.text
    rendered = call(server, Request("setup", org, "POST", "/render", render_body("Setup render")))
    assert rendered.status_code == 200, rendered.text
    return str(rendered.json()["assets"][0]["id"])


def render_body(instruction: str) -> dict[str, Any]:
    return {"project_id": PROJECT, "prompts": {"task": "create", "instruction": instruction},
            "outputs": {"count": 1, "format": "png", "dimensions": "1080x1080"}}


def uncached(org: str) -> Request:
    return Request("uncached_render", org, "POST", "/render",
                   render_body(f'Autumn launch "Fresh roast no. {uuid.uuid4().hex[:8]}" with a call to action'))


# -- the open-loop generator -----------------------------------------------------------------------------------------


@dataclass
class Run:
    shots: list[Shot] = field(default_factory=list)
    wall_s: float = 0.0
    generator_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    late_ms: float = 0.0  # how far behind schedule the generator ever sent a request


class _Connections:
    """Keep-alive HTTP/1.1 connections to the server over asyncio streams: a minimal client, so that the generator
    spends a fraction of a millisecond of CPU per request (an httpx AsyncClient spent ~10 ms here, and on a
    shared 2-core machine the generator then measured its own backlog instead of the server's)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        reader, writer = self._idle.pop() if self._idle else await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            status = int(lines[0].split(b" ", 2)[1])
            length = next((int(line.split(b":", 1)[1]) for line in lines[1:]
                           if line.lower().startswith(b"content-length:")), 0)
            body = await reader.readexactly(length) if length else b""
        except BaseException:
            writer.close()
            raise
        if b"connection: close" in head.lower():
            writer.close()
        else:
            self._idle.append((reader, writer))
        return status, body

    def close(self) -> None:
        for _, writer in self._idle:
            writer.close()


def encoded(server: Server, request: Request) -> bytes:
    body = json.dumps(request.body).encode() if request.body is not None else b""
    head = (f"{request.method} {request.path} HTTP/1.1\r\nhost: 127.0.0.1:{server.port}\r\n"
            f"authorization: Bearer {server.token(request.org)}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _open_loop(server: Server, plan: list[tuple[float, Request]]) -> tuple[list[Shot], float]:
    shots: list[Shot] = []
    late = 0.0
    connections = _Connections(server.port)
    loop = asyncio.get_running_loop()
    start = loop.time()

    async def fire(request: Request, raw: bytes, scheduled: float) -> None:
        try:
            status, body = await asyncio.wait_for(connections.request(raw), CLIENT_TIMEOUT_S)
            shaped = status < 400 or _documented_shape(json.loads(body))
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            status, shaped = 0, False
        shots.append(Shot(request.kind, request.org, status, (loop.time() - scheduled) * 1000, shaped))

    prepared = [(at, request, encoded(server, request)) for at, request in plan]  # before the clock matters
    tasks = []
    for at, request, raw in prepared:
        delay = start + at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        late = max(late, -delay * 1000)
        tasks.append(asyncio.create_task(fire(request, raw, start + at)))
    await asyncio.gather(*tasks)
    connections.close()
    return shots, late


def _documented_shape(body: Any) -> bool:
    """API Gateway's own answers ({"message": ...}) or the API's error shape ({"error": {...}, "request_id"})."""
    return isinstance(body, dict) and (set(body) == {"message"} or {"error", "request_id"} <= set(body))


def drive(server: Server, plan: list[tuple[float, Request]]) -> Run:
    for org in {request.org for _, request in plan}:
        server.token(org)  # minted before the clock starts
    cpu, server_cpu, wall = time.process_time(), server.cpu_s(), time.perf_counter()
    shots, late = asyncio.run(_open_loop(server, plan))
    return Run(shots, time.perf_counter() - wall, time.process_time() - cpu, server.cpu_s() - server_cpu, late)


def steady(rate: float, seconds: float, make: Callable[[int], Request],
           offset: float = 0.0) -> list[tuple[float, Request]]:
    """Arrivals evenly spaced at `rate` per second for `seconds`."""
    return [(offset + index / rate, make(index)) for index in range(int(rate * seconds))]


def summary(shots: list[Shot]) -> dict[str, Any]:
    statuses: dict[str, int] = {}
    for shot in shots:
        statuses[str(shot.status)] = statuses.get(str(shot.status), 0) + 1
    served = [shot.latency_ms for shot in shots if shot.status and shot.status not in (429, 503, 504)]
    shed = [shot for shot in shots if shot.status in (429, 503, 504)]
    return {"requests": len(shots), "statuses": dict(sorted(statuses.items())),
            "served": percentiles(served) if served else None,
            "success_rate": round(sum(1 for s in shots if 200 <= s.status < 300) / len(shots), 4) if shots else 0,
            "five_xx": sum(1 for shot in shots if shot.status >= 500),
            "shed": len(shed), "shed_in_documented_shape": all(shot.gateway_shape for shot in shed),
            "timeouts": sum(1 for shot in shots if shot.status == 0)}


def described(run: Run, seconds: float) -> dict[str, Any]:
    return {"wall_s": round(run.wall_s, 1), "generator_cpu_share": round(run.generator_cpu_s / run.wall_s, 3),
            "server_cpu_share": round(run.server_cpu_s / run.wall_s, 3),
            "generator_late_ms": round(run.late_ms, 1), "planned_s": seconds}


# -- scenarios -------------------------------------------------------------------------------------------------------

ORGS = [f"load-org-{index}" for index in range(10)]


def seed_designs(server: Server, count: int, org: str) -> float:
    """`count` stored designs (a real render's PNG under assets/, with its asset record), written through the
    repositories; returns the seconds it took."""
    from sgd.tenancy import Tenant

    from bench.support.seeds import seed_asset

    png = httpx.get(call(server, Request("setup", org, "POST", "/render", render_body("Seed design"))).json()
                    ["assets"][0]["url"], timeout=30).content
    adapters = server.adapters()
    tenant = Tenant(org, PROJECT)
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as executor:
        list(executor.map(lambda index: seed_asset(adapters, tenant, f"seeded-{index:05d}", png, kind="design",
                                                   width=1080, height=1080, format="png"), range(count)))
    return time.perf_counter() - started


def soak(scale: float, work: Path) -> dict[str, Any]:
    seconds, rate = 120 * scale, 5.0
    orgs = ORGS[:2]  # 2.5 renders per second each: under the per-org default (5), so the limiter never refuses
    server = Server([], work / "soak")
    try:
        for org in orgs:
            setup_project(server, org)
        seeded_s = seed_designs(server, 1000, orgs[0])
        journal = server.data_dir / "aws" / "journal.log"
        before = journal.stat().st_size
        run = drive(server, steady(rate, seconds, lambda index: uncached(orgs[index % 2])))
        journal_growth = journal.stat().st_size - before
    finally:
        stop_s = server.stop()
    control_seconds = 60 * scale
    control = Server(["--no-persist"], work / "soak-control")
    try:
        for org in orgs:
            setup_project(control, org)
        control_run = drive(control, steady(rate, control_seconds, lambda index: uncached(orgs[index % 2])))
    finally:
        control.stop()
    result = summary(run.shots) | described(run, seconds) | {
        "rate_rps": rate, "stored_designs": 1000, "seed_s": round(seeded_s, 1),
        "journal_bytes_written": journal_growth, "clean_stop_s": round(stop_s, 1),
        "control_without_saving": summary(control_run.shots) | described(control_run, control_seconds)}
    served = result["served"] or {"p95": float("inf")}
    result["met"] = served["p95"] <= 600 and result["five_xx"] == 0 and result["timeouts"] == 0
    return result


MIX = (("canon_read", 0.60), ("cached_render", 0.20), ("uncached_render", 0.15), ("critique", 0.05))


def spike(scale: float, work: Path) -> dict[str, Any]:
    seconds, rate = 60 * scale, 50.0
    server = Server([], work / "spike")
    try:
        designs = {org: setup_project(server, org) for org in ORGS}  # a canon and one design per org
        # From cold: the setup left at most one instance per function warm; stop them so the spike starts cold.
        server.stop()
        server = Server([], work / "spike")  # same data dir: state restored, every instance cold (snapshots ready)

        def make(index: int) -> Request:
            org = ORGS[index % len(ORGS)]
            point = (index * 0.6180339887) % 1.0  # a low-discrepancy walk through the mix
            kind = MIX[-1][0]
            for name, share in MIX:
                if point < share:
                    kind = name
                    break
                point -= share
            if kind == "canon_read":
                return Request(kind, org, "GET", f"/canon/{PROJECT}")
            if kind == "cached_render":
                return Request(kind, org, "POST", "/render", render_body("Setup render"))
            if kind == "critique":
                return Request(kind, org, "POST", "/critique", {"project_id": PROJECT, "asset_ids": [designs[org]]})
            return uncached(org)

        run = drive(server, steady(rate, seconds, make))
    finally:
        server.stop()
    by_kind = {kind: summary([shot for shot in run.shots if shot.kind == kind]) for kind, _ in MIX}
    result = summary(run.shots) | described(run, seconds) | {"rate_rps": rate, "by_kind": by_kind}
    served = result["served"] or {"p95": float("inf")}
    result["met"] = result["five_xx"] == 0 and result["timeouts"] == 0 and served["p95"] <= 2000
    return result


def saturation(scale: float, work: Path) -> dict[str, Any]:
    rates = (2.0, 4.0, 6.0, 8.0, 12.0, 16.0)
    step_s = 10 * scale
    server = Server([], work / "saturation")
    steps = []
    try:
        for org in ORGS:
            setup_project(server, org)
        for rate in rates:
            run = drive(server, steady(rate, step_s, lambda index: uncached(ORGS[index % len(ORGS)])))
            steps.append({"rate_rps": rate} | summary(run.shots) | described(run, step_s))
            time.sleep(2 * scale)  # let the queue drain between steps
    finally:
        server.stop()
    knee = next((step["rate_rps"] for step in steps if (step["served"] or {"p95": 1e9})["p95"] > 2000), None)
    bad = sum(step["timeouts"] + step["statuses"].get("500", 0) for step in steps)
    shaped = all(step["shed_in_documented_shape"] for step in steps)
    return {"steps": steps, "p95_over_2s_at_rps": knee, "hangs_or_500s": bad, "shed_in_documented_shape": shaped,
            "met": bad == 0 and shaped}


def fairness(scale: float, work: Path) -> dict[str, Any]:
    """The quiet org alone, beside a neighbour keeping to its limit (a control: the load a fair neighbour adds on
    these shared cores), and beside a flood, in alternating rounds (drift on a shared machine hits each condition
    alike), with enough quiet requests per condition (48 at scale 1) that a p95 is not one sample."""
    from sgd.repositories.rate_limits import RateLimitCounters

    seconds, rounds, limit = 30 * scale, 2, 10  # 10 renders per 10 s window (1 rps) for each org
    quiet_rate, peer_rate, flood_rate = 0.8, limit / 10, 10 * limit / 10  # the flooder sends 10x its limit
    # Separate orgs per condition: none inherits another's count.
    solo_org, beside_peer, peer, quiet, flood = "fair-solo", "fair-beside", "fair-peer", "fair-quiet", "fair-flood"
    server = Server([], work / "fairness")
    runs: dict[str, list[Run]] = {"solo": [], "peer": [], "flood": []}
    try:
        counters = RateLimitCounters(server.adapters().usage_table)
        for org in (solo_org, beside_peer, peer, quiet, flood):
            counters.set_org_limits(org, {"render": limit})
            setup_project(server, org)

        def beside(org: str, other: str, rate: float) -> list[tuple[float, Request]]:
            return sorted(steady(quiet_rate, seconds, lambda index: uncached(org))
                          + steady(rate, seconds, lambda index: uncached(other)), key=lambda item: item[0])

        for _ in range(rounds):
            runs["solo"].append(drive(server, steady(quiet_rate, seconds, lambda index: uncached(solo_org))))
            runs["peer"].append(drive(server, beside(beside_peer, peer, peer_rate)))
            runs["flood"].append(drive(server, beside(quiet, flood, flood_rate)))
    finally:
        server.stop()

    def of(condition: str, org: str | None = None) -> dict[str, Any]:
        return summary([shot for run in runs[condition] for shot in run.shots if org is None or shot.org == org])

    def p95_of(result: dict[str, Any]) -> float:
        return (result["served"] or {"p95": 1e9})["p95"]

    alone, with_peer, with_flood, flooder = of("solo"), of("peer", beside_peer), of("flood", quiet), of("flood", flood)
    p95_ratio = p95_of(with_flood) / max(1e-9, p95_of(alone))
    success_ratio = with_flood["success_rate"] / max(1e-9, alone["success_rate"])
    return {"limit_per_window": limit, "quiet_rps": quiet_rate, "peer_rps": peer_rate, "flood_rps": flood_rate,
            "rounds": rounds, "quiet_solo": alone | described(runs["solo"][-1], seconds),
            "quiet_beside_peer": with_peer, "quiet_with_flood": with_flood,
            "flooder": flooder | described(runs["flood"][-1], seconds), "p95_ratio": round(p95_ratio, 3),
            "p95_ratio_beside_peer": round(p95_of(with_peer) / max(1e-9, p95_of(alone)), 3),
            "p95_ratio_flood_vs_peer": round(p95_of(with_flood) / max(1e-9, p95_of(with_peer)), 3),
            "success_ratio": round(success_ratio, 3), "met": p95_ratio <= 1.10 and success_ratio >= 0.90}


def keepalive(scale: float, work: Path) -> dict[str, Any]:
    """GET /canon, one request at a time on one keep-alive connection: what the local gateway adds to a hot read.
    Faster than the stage throttle and the org's read limit allow, so both are lifted (the org's limit is still
    checked on every request, as always)."""
    from sgd.repositories.rate_limits import RateLimitCounters

    server = Server(["--no-throttle"], work / "keepalive")
    try:
        RateLimitCounters(server.adapters().usage_table).set_org_limits(ORGS[0], {"reads": 100_000})
        setup_project(server, ORGS[0])
        raw = encoded(server, Request("canon_read", ORGS[0], "GET", f"/canon/{PROJECT}"))

        async def sequential(count: int) -> list[float]:
            connections = _Connections(server.port)
            timings = []
            for _ in range(count):
                started = time.perf_counter()
                status, _ = await connections.request(raw)
                assert status == 200, status
                timings.append((time.perf_counter() - started) * 1000)
            connections.close()
            return timings

        asyncio.run(sequential(20))  # warm instances
        cpu, wall = time.process_time(), time.perf_counter()
        timings = asyncio.run(sequential(max(20, int(200 * scale))))
        share = (time.process_time() - cpu) / (time.perf_counter() - wall)
    finally:
        server.stop()
    stats = percentiles(timings)
    return {"served": stats, "generator_cpu_share": round(share, 3), "met": stats["p95"] <= 20}


SCENARIOS: dict[str, Callable[[float, Path], dict[str, Any]]] = {
    "soak": soak, "spike": spike, "saturation": saturation, "fairness": fairness, "keepalive": keepalive}


# -- report ----------------------------------------------------------------------------------------------------------


def served_text(result: dict[str, Any]) -> str:
    served = result.get("served")
    return f"p50 {served['p50']:.0f} ms, p95 {served['p95']:.0f} ms" if served else "nothing served"


def markdown(results: dict[str, Any], machine: dict[str, Any]) -> str:
    lines = ["# Load suite (`make bench-load`)", "",
             f"Machine: {machine['nproc']} cores, load average {machine['load_before']} before and "
             f"{machine['load_after']} after (shared with other work; absolute numbers move with it).", "",
             "| Scenario | Target | Measured | Generator CPU | Server CPU | Met |", "|---|---|---|---|---|---|"]
    for name, result in results.items():
        if name == "soak":
            control = result["control_without_saving"]
            measured = (f"{served_text(result)}; statuses {result['statuses']}; journal +"
                        f"{result['journal_bytes_written'] / 1e6:.1f} MB; without saving: {served_text(control)}")
            target = "p95 ≤ 600 ms, no 5xx"
        elif name == "spike":
            measured = f"{served_text(result)} of the served; statuses {result['statuses']}"
            target = "no 5xx but throttle 429s; served p95 ≤ 2 s"
        elif name == "saturation":
            steps = "; ".join(f"{step['rate_rps']:g} rps: {served_text(step)} {step['statuses']}"
                              for step in result["steps"])
            measured = f"p95 passes 2 s at {result['p95_over_2s_at_rps']} rps. {steps}"
            target = "the knee; shed load 429/503, no hang or 500"
        elif name == "keepalive":
            measured = served_text(result)
            target = "GET /canon through the local gateway, keep-alive, p95 ≤ 20 ms"
        else:
            measured = (f"quiet org alone {served_text(result['quiet_solo'])}, success "
                        f"{result['quiet_solo']['success_rate']:.0%}; with the flood "
                        f"{served_text(result['quiet_with_flood'])}, success "
                        f"{result['quiet_with_flood']['success_rate']:.0%} (p95 x{result['p95_ratio']}); "
                        f"control, beside a neighbour at its limit: p95 x{result['p95_ratio_beside_peer']} "
                        f"(the flood against it: x{result['p95_ratio_flood_vs_peer']}); "
                        f"flooder statuses {result['flooder']['statuses']}")
            target = "quiet org's p95 and success within 10 %"
        share = result if name != "saturation" else result["steps"][-1]
        if name == "fairness":
            share = result["flooder"]
        lines.append(f"| {name} | {target} | {measured} | {share.get('generator_cpu_share', 0):.0%} of a core | "
                     f"{share.get('server_cpu_share', 0):.0%} of a core | {'yes' if result['met'] else 'no'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS),
                        help="run only this scenario (repeatable; default: all four)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every duration (0.25 for a quick look)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    machine = {"nproc": os.cpu_count(), "load_before": [round(x, 2) for x in os.getloadavg()]}
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="sgd-load-") as work:
        for name in args.scenario or list(SCENARIOS):
            print(f"load: {name}...", file=sys.stderr, flush=True)
            results[name] = SCENARIOS[name](args.scale, Path(work))
            print(f"load: {name}: {'met' if results[name]['met'] else 'NOT met'}", file=sys.stderr, flush=True)
    machine["load_after"] = [round(x, 2) for x in os.getloadavg()]
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if not args.scenario else "-" + "-".join(args.scenario)
    (args.out / f"load{suffix}.json").write_text(json.dumps({"machine": machine, "scale": args.scale,
                                                             "results": results}, indent=2) + "\n")
    text = markdown(results, machine)
    (args.out / f"load{suffix}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
