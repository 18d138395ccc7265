"""The local clients (the demo, `sgd ingest`) wait out API Gateway's stage throttle, and only it."""

import httpx
import pytest

from sgd_local import ingest_client
from sgd_local.ingest_client import THROTTLE_RETRIES, request_within_throttle


def client_answering(statuses: list[tuple[int, dict[str, str]]], seen: list[str]) -> httpx.Client:
    answers = iter(statuses)

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        status, headers = next(answers)
        return httpx.Response(status, headers=headers, json={"message": "Too Many Requests"} if status == 429 else {})

    return httpx.Client(transport=httpx.MockTransport(answer), base_url="http://sgd.test")


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    taken: list[float] = []
    monkeypatch.setattr(ingest_client.time, "sleep", taken.append)
    return taken


def test_the_stage_throttle_is_waited_out_with_growing_pauses(pauses: list[float]) -> None:
    seen: list[str] = []
    client = client_answering([(429, {}), (429, {}), (200, {})], seen)
    response = request_within_throttle(client, "GET", "/canon/p1")
    assert response.status_code == 200
    assert seen == ["/canon/p1"] * 3
    assert len(pauses) == 2
    assert pauses[1] > pauses[0] > 0


def test_an_org_limit_or_budget_429_is_the_answer_at_once(pauses: list[float]) -> None:
    seen: list[str] = []
    client = client_answering([(429, {"retry-after": "7"})], seen)
    response = request_within_throttle(client, "POST", "/render", json={})
    assert response.status_code == 429
    assert seen == ["/render"]
    assert pauses == []


def test_a_throttle_that_never_lets_up_ends_in_its_429(pauses: list[float]) -> None:
    seen: list[str] = []
    client = client_answering([(429, {})] * (THROTTLE_RETRIES + 1), seen)
    assert request_within_throttle(client, "GET", "/usage").status_code == 429
    assert len(seen) == THROTTLE_RETRIES + 1
    assert len(pauses) == THROTTLE_RETRIES
