"""Shared fixtures. Integration tests run the real Lambda path: API Gateway v2 event -> Mangum -> handler ->
adapters -> the embedded moto server, all through the same LocalRuntime that `sgd serve` uses."""

from __future__ import annotations

import json
import os
import site
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


# -- the file-access guard -------------------------------------------------------------------------------------------
# Tests read and write only the repository, the virtualenv, the Python installation and temporary folders: a fresh
# machine has nothing else (no system fonts, nothing in a home directory). An audit hook, installed when pytest
# imports this conftest and never removed (audit hooks cannot be), records every file opened, directory listed or
# globbed, and file or directory created, removed or renamed anywhere else; the test phase (setup, call, teardown)
# in which that happened then fails, naming the path. The hook only records: an exception raised inside an audit
# hook would surface from whatever library code opened the file. Integer file descriptors are not paths and pass.
# Subprocesses the tests start (the local runtime's function workers, the moto server, `sgd` CLI runs, cold-start
# children) are not watched: an audit hook does not outlive exec or spawn.

def _folders(*paths: str | os.PathLike[str]) -> tuple[str, ...]:
    """Each folder as an absolute path ending in a separator, spelled as given and with symlinks resolved."""
    found = {form.rstrip(os.sep) + os.sep for path in paths
             for form in (os.path.abspath(path), os.path.realpath(path))}
    return tuple(sorted(found))


ALLOWED_FOLDERS = _folders(
    ROOT,  # the repository: bundled fonts, examples, events, template, and what pytest and hypothesis keep there
    sys.prefix, sys.exec_prefix,  # the virtualenv
    sys.base_prefix, sys.base_exec_prefix,  # the Python installation (standard library, extension modules)
    *site.getsitepackages(),  # where the dependencies are installed (inside the virtualenv for `make venv`)
    tempfile.gettempdir(), "/tmp",  # tmp_path, the local runtime's data folders, temporary files of libraries
)
# Outside those, the whole suite opens only /dev/null (subprocess.DEVNULL for the processes it starts): present on
# every machine, with nothing in it. Name a file here, with its reason, only when a library really needs one.
ALLOWED_FILES = frozenset({os.devnull})
WATCHED_EVENTS = frozenset({"open", "os.listdir", "os.scandir", "glob.glob", "glob.glob/2", "os.mkdir", "os.rmdir",
                            "os.remove", "os.rename", "shutil.rmtree"})


def path_is_allowed(path: str) -> bool:
    """Whether a test may touch this absolute, normalised path (see ALLOWED_FOLDERS and ALLOWED_FILES)."""
    return path in ALLOWED_FILES or (path + os.sep).startswith(ALLOWED_FOLDERS)


@dataclass(frozen=True)
class FileAccess:
    event: str
    path: str
    stack: tuple[str, ...]  # innermost first: file:line function

    def __str__(self) -> str:
        return f"{self.event} {self.path}\n" + "\n".join(f"      at {frame}" for frame in self.stack)


FILE_ACCESSES_OUTSIDE: list[FileAccess] = []  # appended by the audit hook (any thread), taken by the test phases


def _stack_summary(frame: Any, limit: int = 8) -> tuple[str, ...]:
    """file:line function of the innermost frames, and of the innermost frames of the repository's own code
    (not its virtualenv), without reading any source file (which would come back through the hook)."""
    frames = []
    while frame is not None and len(frames) < 60:
        frames.append(f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
        frame = frame.f_back
    own = [line for line in frames if line.startswith(str(ROOT)) and "/.venv" not in line and __file__ not in line]
    return tuple(dict.fromkeys(frames[:3] + own[:limit - 3]))


def _paths_of(event: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    if event == "os.rename":
        return args[:2]
    if event == "glob.glob/2" and args[2] is not None:  # (pattern, recursive, root_dir, dir_fd)
        return (os.path.join(os.fsdecode(args[2]), os.fsdecode(args[0])),)
    return args[:1]


def _absolute(path: Any) -> str:
    if type(path) is not str:
        path = os.fsdecode(os.fspath(path)) if path is not None else "."
    if path.startswith("/") and "//" not in path and "/./" not in path and "/../" not in path \
            and not path.endswith(("/.", "/..")):
        return path  # absolute and normal already (most paths): no getcwd, no normpath
    return os.path.abspath(path)


def _file_access_hook(event: str, args: tuple[Any, ...]) -> None:
    if event not in WATCHED_EVENTS:  # called for every audited action in the process: leave at once
        return
    try:
        for path in _paths_of(event, args):
            if isinstance(path, int):  # an open file descriptor, not a path
                continue
            absolute = _absolute(path)
            if not path_is_allowed(absolute):
                FILE_ACCESSES_OUTSIDE.append(FileAccess(event, absolute, _stack_summary(sys._getframe(1))))
    except Exception:  # a hook must never break the code it watches; arguments that are no paths are ignored
        pass


sys.addaudithook(_file_access_hook)
_unreported: list[FileAccess] = []  # outside a test phase (collection, a background thread), or in a failed one


def take_file_accesses() -> list[FileAccess]:
    """The accesses recorded since the last call, removed from the record."""
    taken = FILE_ACCESSES_OUTSIDE[:]
    del FILE_ACCESSES_OUTSIDE[:len(taken)]
    return taken


def _fail_on_file_accesses(when: str) -> Iterator[None]:
    _unreported.extend(take_file_accesses())
    try:
        yield
    except BaseException:
        _unreported.extend(take_file_accesses())  # the phase failed already: listed at the end of the session
        raise
    accesses = take_file_accesses()
    if accesses:
        listed = "\n".join(f"  {access}" for access in accesses)
        pytest.fail(f"{when} touched files outside the repository, the virtualenv and temporary folders (a fresh "
                    f"machine has none of them; see the file-access guard in tests/conftest.py):\n{listed}",
                    pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    yield from _fail_on_file_accesses("setup")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    yield from _fail_on_file_accesses("the test")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield from _fail_on_file_accesses("teardown")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # What pytest's own plugins write after the last test (a --junitxml report anywhere) is not a test's doing.
    if _unreported and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _unreported:
        terminalreporter.section("files touched outside the repository, the virtualenv and temporary folders "
                                 "(collection, a background thread, or a test that failed otherwise)", red=True)
        for access in _unreported:
            terminalreporter.line(str(access))

# In-process unit tests import sgd modules directly; give them the settings a function would have.
UNIT_ENVIRONMENT = {
    "SGD_ASSETS_BUCKET": "sgd-test-assets", "SGD_CACHE_TABLE": "CacheTable",
    "SGD_IDEMPOTENCY_TABLE": "IdempotencyTable", "SGD_JOBS_TABLE": "JobsTable", "SGD_CANON_TABLE": "CanonTable",
    "SGD_USAGE_TABLE": "UsageTable", "SGD_ASSETS_TABLE": "AssetsTable", "POWERTOOLS_SERVICE_NAME": "unit",
    "POWERTOOLS_METRICS_NAMESPACE": "SGDTest", "AWS_DEFAULT_REGION": "us-east-1",
}
for _name, _value in UNIT_ENVIRONMENT.items():
    os.environ.setdefault(_name, _value)

# Property tests explore new random examples on a developer's machine; CI replays a fixed derivation of them, so
# a red build always reproduces (as Hypothesis recommends). `pytest --hypothesis-seed=N` explores in CI too.
from hypothesis import settings  # noqa: E402 - after the environment the sgd modules read

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from sgd_local.runtime import LocalRuntime, RuntimeOptions

    data_dir = tmp_path_factory.mktemp("sgd-runtime")
    # No stage throttle: the suite sends requests as fast as it can; tests/integration/test_gateway_limits.py
    # checks the throttle on its own.
    # Nor the template's default per-org limits: the whole suite is one org (acme) at machine speed;
    # test_rate_limit_routes.py gives its own orgs their own limits, and checks the window without pacing
    # (tests/unit/test_rate_limits.py checks the pacing).
    unlimited = {"SGD_RATE_LIMITS": "render=100000,critique=100000,ingest=100000,reads=100000",
                 "SGD_RATE_LIMIT_BURST_SHARE": "1"}
    with LocalRuntime(RuntimeOptions(data_dir=data_dir, persist=False, throttle=False, environment=unlimited),
                      root=ROOT) as local_runtime:
        yield local_runtime


class ApiClient:
    """Calls the runtime's gateway the way an HTTP client would."""

    def __init__(self, runtime: Any, org: str | None = "acme"):
        self.runtime = runtime
        self.token = runtime.token(org) if org else None

    def request(self, method: str, path: str, body: Any = None, *, token: str | None = "default",
                headers: dict[str, str] | None = None) -> Any:
        from sgd_local.apigw import HttpRequest

        all_headers = {"content-type": "application/json"} | (headers or {})
        bearer = self.token if token == "default" else token
        if bearer:
            all_headers["authorization"] = f"Bearer {bearer}"
        raw = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
        path, _, query = path.partition("?")
        return self.runtime.handle_http(HttpRequest(method, path, query, all_headers, raw))


@pytest.fixture(scope="session")
def adapters(runtime: Any) -> Any:
    """The composition root's adapters over the local runtime's moto server: what tests seed and inspect state
    through (the repositories over these own every key)."""
    from bench.support.seeds import runtime_adapters

    return runtime_adapters(runtime)


@pytest.fixture(scope="session")
def api(runtime: Any) -> ApiClient:
    return ApiClient(runtime)


@pytest.fixture(scope="session")
def api_other_org(runtime: Any) -> ApiClient:
    return ApiClient(runtime, org="globex")


def run_async(awaitable: Any) -> Any:
    """Runs a coroutine on a private loop. asyncio.run would unset the thread's current loop, which the
    Mangum adapters of in-process tests rely on (as Lambda relies on one loop per process)."""
    import asyncio

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(awaitable)
    finally:
        loop.close()


def load_event(relative: str) -> dict[str, Any]:
    return json.loads((ROOT / "events" / relative).read_text())
