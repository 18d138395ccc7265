"""`sgd`: the local runtime's command line (serve, invoke, token, openapi, demo, ingest)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = ".sgd"


def _data_dir(args: argparse.Namespace) -> Path:
    from sgd_local.runtime import project_root

    return Path(args.data_dir) if args.data_dir else project_root() / DEFAULT_DATA_DIR


def _env_overrides(path: str | None, function: str | None = None) -> dict[str, str]:
    """`--env-vars` in sam local's format: {"Parameters": {...}, "<LogicalId>": {...}}."""
    if not path:
        return {}
    data = json.loads(Path(path).read_text())
    overrides = dict(data.get("Parameters", {}))
    if function:
        overrides |= data.get(function, {})
    return {name: str(value) for name, value in overrides.items()}


def _warm(values: list[str] | None) -> dict[str, int] | None:
    """--warm 1 (every function) or --warm RenderFunction=2 (repeatable)."""
    if not values:
        return None
    warm: dict[str, int] = {}
    for value in values:
        name, _, count = value.rpartition("=")
        warm[name or "*"] = int(count)
    return warm


def cmd_serve(args: argparse.Namespace) -> int:
    from sgd_local.runtime import LocalRuntime, RuntimeOptions, write_state_file
    from sgd_local.server import make_server

    data_dir = _data_dir(args)
    options = RuntimeOptions(data_dir=data_dir, aws_port=args.aws_port, persist=not args.no_persist,
                             environment=_env_overrides(args.env_vars), throttle=not args.no_throttle,
                             snap_start=args.snap_start, warm=_warm(args.warm),
                             max_instances=args.max_instances, max_queue=args.max_queue)
    runtime = LocalRuntime(options).start().wait_ready()
    server = make_server(runtime, port=args.port)
    host, port = server.server_address[:2]
    state = runtime.state() | {"api": f"http://{host}:{port}", "pid": os.getpid()}
    write_state_file(data_dir, state)
    print(f"SGD local runtime: API on http://{host}:{port}  (embedded AWS {runtime.aws.endpoint})", flush=True)
    for route in runtime.stack.routes:
        print(f"  {route.route_key:<34} -> {route.function}{'' if route.authorized else '  (no auth)'}")
    for name, pool in runtime.pools.items():
        if pool.snapshot:
            print(f"  SnapStart {name}: init {pool.snapshot['init_ms']:.0f} ms + priming "
                  f"{pool.snapshot['prime_ms']:.0f} ms, once; instances fork from it")
    print(f"Token: sgd token --org acme   |  logs: {data_dir / 'logs'}  |  Ctrl-C saves state and stops",
          flush=True)

    stopping = threading.Event()

    def shutdown(*_: Any) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        runtime.stop()
        (data_dir / "runtime.json").unlink(missing_ok=True)
        print("state saved; stopped", flush=True)
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    """`sam local invoke`, without Docker: one fresh instance, the event in, the result on stdout."""
    from sgd_local.aws import LocalAws
    from sgd_local.lambda_host import call_handler, load_handler
    from sgd_local.runtime import local_environment, project_root, running_aws_endpoint
    from sgd_local.template import read_stack

    stack = read_stack(project_root())
    if args.function not in stack.functions:
        print(f"no function {args.function!r}; template.yaml has {sorted(stack.functions)}", file=sys.stderr)
        return 2
    event = json.loads(Path(args.event).read_text() if args.event != "-" else sys.stdin.read())
    data_dir = _data_dir(args)
    endpoint = running_aws_endpoint(data_dir)
    aws = LocalAws(stack, data_dir, endpoint=endpoint).start()
    if endpoint is None:
        aws.provision()
    spec = stack.functions[args.function]
    environment = local_environment(spec, aws_endpoint=aws.endpoint, data_dir=data_dir, root=project_root(),
                                    overrides=_env_overrides(args.env_vars, args.function))
    try:
        with contextlib.redirect_stdout(sys.stderr):  # logs to stderr, the result alone to stdout
            handler = load_handler(spec, environment)
            ok, payload = call_handler(handler, spec, event, str(uuid.uuid4()))
    finally:
        if endpoint is None:
            aws.save()
        aws.stop()
    print(json.dumps(json.loads(payload), indent=2))
    return 0 if ok else 1


def cmd_token(args: argparse.Namespace) -> int:
    from sgd_local.auth import LocalSigningKey
    from sgd_local.runtime import project_root
    from sgd_local.template import read_stack

    authorizer = read_stack(project_root()).authorizer
    if authorizer is None:
        print("template.yaml defines no JWT authorizer", file=sys.stderr)
        return 2
    key = LocalSigningKey(_data_dir(args) / "keys")
    print(key.issue(authorizer, org=args.org, subject=args.sub, ttl_seconds=args.ttl, audience=args.audience))
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from sgd_local.openapi import render_document
    from sgd_local.runtime import project_root

    document = render_document(project_root())
    if args.check:
        committed = Path(args.check).read_text() if Path(args.check).exists() else ""
        if committed != document:
            print(f"{args.check} is out of date with the code: run `make openapi` and commit it", file=sys.stderr)
            return 1
        print(f"{args.check} matches the code")
        return 0
    if args.output:
        Path(args.output).write_text(document)
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(document)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from sgd_local.demo import run_demo

    return run_demo(out_dir=Path(args.out) if args.out else None, data_dir=_data_dir(args))


def cmd_ingest(args: argparse.Namespace) -> int:
    """Uploads each file through POST /uploads and its presigned POST, then follows GET /uploads/{id}."""
    from sgd_local.ingest_client import ingest_files

    return ingest_files(args, data_dir=_data_dir(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sgd", description=__doc__)
    parser.add_argument("--data-dir", help=f"local state (default: <project>/{DEFAULT_DATA_DIR})")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve template.yaml's HTTP API on 127.0.0.1")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--aws-port", type=int, default=0, help="embedded moto server port (0: any free)")
    serve.add_argument("--env-vars", help="JSON overrides, sam local's --env-vars format")
    serve.add_argument("--no-persist", action="store_true", help="do not save or restore state")
    serve.add_argument("--no-throttle", action="store_true", help="turn off the template's stage throttle (429)")
    snap = serve.add_mutually_exclusive_group()
    snap.add_argument("--snapstart", dest="snap_start", action="store_true", default=None,
                      help="instances fork from a primed process (default: as template.yaml's SnapStart says)")
    snap.add_argument("--no-snapstart", dest="snap_start", action="store_false",
                      help="every instance starts cold (plain Lambda)")
    serve.add_argument("--warm", action="append", metavar="[FUNCTION=]N",
                       help="pre-warmed instances (provisioned concurrency), for every function or one")
    serve.add_argument("--max-instances", type=int, default=4, help="concurrent instances per function")
    serve.add_argument("--max-queue", type=int, default=64,
                       help="requests that may wait per function before the gateway answers 503")
    serve.set_defaults(run=cmd_serve)

    invoke = commands.add_parser("invoke", help="invoke one function with an event (sam local invoke)")
    invoke.add_argument("function", help="the function's logical id, e.g. RenderFunction")
    invoke.add_argument("-e", "--event", default="-", help="event JSON file ('-' reads stdin)")
    invoke.add_argument("--env-vars", help="JSON overrides, sam local's --env-vars format")
    invoke.set_defaults(run=cmd_invoke)

    token = commands.add_parser("token", help="print a JWT the local authorizer accepts")
    token.add_argument("--org", required=True)
    token.add_argument("--sub", default="local-user")
    token.add_argument("--ttl", type=int, default=3600, help="seconds; negative gives an expired token")
    token.add_argument("--audience", default=None)
    token.set_defaults(run=cmd_token)

    openapi = commands.add_parser("openapi", help="write or check the merged OpenAPI document")
    group = openapi.add_mutually_exclusive_group()
    group.add_argument("--output", help="write it here")
    group.add_argument("--check", help="fail if this file differs from the code")
    openapi.set_defaults(run=cmd_openapi)

    ingest = commands.add_parser("ingest", help="upload brand files (presigned POST) and wait for each result")
    ingest.add_argument("paths", nargs="+", metavar="PATH", help="files to ingest (PDF, image, font, text)")
    ingest.add_argument("--project", required=True, help="the project the files belong to")
    ingest.add_argument("--org", default="acme", help="org of the locally minted token (default: acme)")
    ingest.add_argument("--url", help="API base URL (default: the running `sgd serve`, else an in-process runtime)")
    ingest.add_argument("--token", help="bearer token (default: minted with the local signing key)")
    ingest.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for each file")
    ingest.set_defaults(run=cmd_ingest)

    demo = commands.add_parser("demo", help="the main job: the end-to-end demo and its HTML report")
    demo.add_argument("--out", help="output folder (default: out/demo-<timestamp>)")
    demo.set_defaults(run=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
