"""The local gateway under load behaves as API Gateway's HTTP API does: the stage throttle from template.yaml,
answers in the gateway's own shape, and a server that keeps up with keep-alive clients and connection bursts."""

import json
import socket
from typing import Any

import pytest

from sgd_local.apigw import StageThrottle
from sgd_local.server import LISTEN_BACKLOG, client_gone, make_server
from sgd_local.template import read_stack
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_stage_throttle_is_a_token_bucket_of_the_templates_rate_and_burst() -> None:
    stack = read_stack(ROOT)
    assert (stack.throttle_rate, stack.throttle_burst) == (20.0, 50)  # DefaultRouteSettings' defaults
    clock = FakeClock()
    throttle = StageThrottle(stack.throttle_rate, stack.throttle_burst, clock)
    assert sum(throttle.admit() for _ in range(80)) == 50  # the burst, then nothing until tokens refill
    clock.now += 0.5
    assert sum(throttle.admit() for _ in range(80)) == 10  # 20 per second
    clock.now += 60
    assert sum(throttle.admit() for _ in range(80)) == 50  # never more than the burst
    assert StageThrottle(0, 0, clock).admit()  # no throttle configured: everything passes


def test_past_the_throttle_the_gateway_answers_429_in_its_own_shape(runtime: Any) -> None:
    from sgd_local.apigw import HttpRequest

    saved = runtime.throttle
    runtime.throttle = StageThrottle(0.001, 2)
    try:
        answers = [runtime.handle_http(HttpRequest("GET", "/healthz")) for _ in range(3)]
    finally:
        runtime.throttle = saved
    assert [a.status for a in answers] == [200, 200, 429]
    assert answers[2].json() == {"message": "Too Many Requests"}
    assert answers[2].headers["content-type"] == "application/json"
    unknown = runtime.handle_http(HttpRequest("GET", "/nope"))
    assert unknown.status == 404  # routing comes first: an unknown path is never throttled


def test_a_full_queue_is_a_503_in_the_gateways_shape(runtime: Any) -> None:
    from sgd_local.apigw import HttpRequest

    pool = runtime.pools["CanonFunction"]
    saved = pool.max_queue, pool.max_instances, pool._idle
    pool.max_queue, pool.max_instances, pool._idle = 0, 0, []  # no instance free and no room to wait
    try:
        answer = runtime.handle_http(HttpRequest("GET", "/healthz"))
    finally:
        pool.max_queue, pool.max_instances, pool._idle = saved
    assert answer.status == 503
    assert answer.json() == {"message": "Service Unavailable"}


def test_client_gone_sees_a_closed_peer_but_not_pipelined_bytes() -> None:
    ours, theirs = socket.socketpair()
    try:
        assert not client_gone(ours)
        theirs.sendall(b"GET /healthz HTTP/1.1\r\n\r\n")
        assert not client_gone(ours)  # the next request of a keep-alive client
        ours.recv(1024)
        theirs.close()
        assert client_gone(ours)
    finally:
        ours.close()


def test_keep_alive_responses_come_whole_in_one_segment_with_nodelay(runtime: Any) -> None:
    import threading

    server = make_server(runtime, port=0)
    assert server.request_queue_size == LISTEN_BACKLOG
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        with socket.create_connection(server.server_address[:2], timeout=30) as client:
            for _ in range(3):  # one connection, several requests
                client.sendall(b"GET /healthz HTTP/1.1\r\nhost: local\r\n\r\n")
                first = client.recv(65536)  # one write of the whole response arrives in one read
                head, _, body = first.partition(b"\r\n\r\n")
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length")))
                assert len(body) == length
                assert json.loads(body)["status"] == "ok"
                assert head.startswith(b"HTTP/1.1 200")
    finally:
        server.shutdown()
        server.server_close()
