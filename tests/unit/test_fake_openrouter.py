"""The fake OpenRouter server itself, driven through a real httpx client over loopback."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from bench.support.fake_openrouter import FakeOpenRouter, RecordedRequest, Reply

MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def fake() -> Iterator[FakeOpenRouter]:
    with FakeOpenRouter() as server:
        yield server


@pytest.fixture
def client(fake: FakeOpenRouter) -> Iterator[httpx.Client]:
    # trust_env=False: a proxy set in the environment must not intercept loopback calls.
    with httpx.Client(base_url=fake.base_url, headers={"Authorization": "Bearer sk-test"}, trust_env=False,
                      timeout=5.0) as http:
        yield http


def chat(client: httpx.Client, model: str = MODEL, **extra: Any) -> httpx.Response:
    return client.post("/chat/completions", json={"model": model, "messages": [{"role": "user", "content": "hi"}]}
                       | extra)


def content(response: httpx.Response) -> str:
    return response.json()["choices"][0]["message"]["content"]


def test_base_url_points_at_loopback(fake: FakeOpenRouter) -> None:
    assert fake.base_url.startswith("http://127.0.0.1:")
    assert fake.base_url.endswith("/api/v1")


def test_default_echo_has_the_real_success_shape(client: httpx.Client) -> None:
    response = chat(client)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert document["id"].startswith("gen-")
    assert document["object"] == "chat.completion"
    assert isinstance(document["created"], int)
    assert document["model"] == MODEL
    choice = document["choices"][0]
    assert choice["index"] == 0
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert json.loads(choice["message"]["content"]) == {"echo": MODEL}
    assert document["usage"] == {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160, "cost": 0.0001}


def test_scripted_replies_are_consumed_in_order_per_model_then_default(fake: FakeOpenRouter,
                                                                        client: httpx.Client) -> None:
    fake.script(MODEL, Reply.json({"n": 1}), Reply.text("second"))
    fake.script("other/model", Reply.json({"other": True}))
    assert json.loads(content(chat(client))) == {"n": 1}
    assert json.loads(content(chat(client, "other/model"))) == {"other": True}
    assert content(chat(client)) == "second"
    assert json.loads(content(chat(client))) == {"echo": MODEL}
    assert json.loads(content(chat(client, "other/model"))) == {"echo": "other/model"}
    assert fake.pending(MODEL) == 0


def test_reply_options_shape_usage_and_finish_reason(fake: FakeOpenRouter, client: httpx.Client) -> None:
    fake.script(MODEL, Reply.json([1, 2], cost=None, prompt_tokens=7, completion_tokens=3),
                Reply.text("cut", finish_reason="length", cost=0.5))
    first = chat(client).json()
    assert first["usage"] == {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    assert json.loads(first["choices"][0]["message"]["content"]) == [1, 2]
    second = chat(client).json()
    assert second["choices"][0]["finish_reason"] == "length"
    assert second["usage"]["cost"] == 0.5


def test_set_default_and_constructor_default(fake: FakeOpenRouter, client: httpx.Client) -> None:
    fake.set_default(Reply.text("fallback"))
    assert content(chat(client)) == "fallback"
    with FakeOpenRouter(default=Reply.status(503)) as other, httpx.Client(trust_env=False) as http:
        response = http.post(f"{other.base_url}/chat/completions", json={"model": MODEL, "messages": []})
    assert response.status_code == 503
    assert response.json() == {"error": {"code": 503, "message": "Service Unavailable"}}


def test_status_errors_with_and_without_retry_after(fake: FakeOpenRouter, client: httpx.Client) -> None:
    fake.script(MODEL, Reply.status(429, "Rate limited", retry_after="2", metadata={"provider_name": "x"}),
                Reply.status(502, "Bad upstream"))
    limited = chat(client)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert limited.json() == {"error": {"code": 429, "message": "Rate limited", "metadata": {"provider_name": "x"}}}
    bad = chat(client)
    assert bad.status_code == 502
    assert "retry-after" not in bad.headers
    assert bad.json() == {"error": {"code": 502, "message": "Bad upstream"}}


def test_body_error_arrives_with_http_200(fake: FakeOpenRouter, client: httpx.Client) -> None:
    fake.script(MODEL, Reply.body_error(502, "Provider returned error"))
    response = chat(client)
    assert response.status_code == 200
    assert response.json() == {"error": {"code": 502, "message": "Provider returned error"}}


def test_truncated_body_is_honestly_sized_but_not_json(fake: FakeOpenRouter, client: httpx.Client) -> None:
    fake.script(MODEL, Reply.truncated())
    response = chat(client)
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content) > 0
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert json.loads(content(chat(client))) == {"echo": MODEL}  # the connection is still usable


def test_refusal_openai_style(fake: FakeOpenRouter, client: httpx.Client) -> None:
    fake.script(MODEL, Reply.refusal("No."))
    choice = chat(client).json()["choices"][0]
    assert choice["message"]["content"] is None
    assert choice["message"]["refusal"] == "No."
    assert choice["finish_reason"] == "stop"


def test_refusal_content_filter_style(fake: FakeOpenRouter, client: httpx.Client) -> None:
    fake.script(MODEL, Reply.refusal(content_filter=True))
    choice = chat(client).json()["choices"][0]
    assert choice["finish_reason"] == "content_filter"
    assert choice["message"]["content"] is None
    assert "refusal" not in choice["message"]


def test_image_data_url_decodes_to_the_same_bytes(fake: FakeOpenRouter, client: httpx.Client) -> None:
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    fake.script(MODEL, Reply.image(data), Reply.image(b"jpeg", mime="image/jpeg", cost=None))
    document = chat(client, modalities=["image", "text"]).json()
    message = document["choices"][0]["message"]
    assert isinstance(message["content"], str)
    image = message["images"][0]
    assert image["type"] == "image_url"
    prefix, _, encoded = image["image_url"]["url"].partition(",")
    assert prefix == "data:image/png;base64"
    assert base64.b64decode(encoded) == data
    assert document["usage"]["cost"] == 0.04
    second = chat(client).json()
    assert second["choices"][0]["message"]["images"][0]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert "cost" not in second["usage"]


def test_disconnect_raises_a_transport_error_and_the_next_call_recovers(fake: FakeOpenRouter,
                                                                        client: httpx.Client) -> None:
    fake.script(MODEL, Reply.disconnect())
    with pytest.raises(httpx.TransportError):
        chat(client)
    assert chat(client).status_code == 200


def test_a_held_request_does_not_block_others(fake: FakeOpenRouter, client: httpx.Client) -> None:
    held, release = threading.Event(), threading.Event()

    def hold_the_slow_model(request: RecordedRequest) -> Reply:
        if request.model != "slow/model":
            return Reply.echo()
        held.set()
        release.wait(10)  # in this connection's own thread, until the other call has been answered
        return Reply.text("late")

    fake.respond_with(hold_the_slow_model)
    slow: dict[str, Any] = {}

    def call_slow() -> None:
        with httpx.Client(base_url=fake.base_url, trust_env=False) as own:
            slow["response"] = chat(own, "slow/model")

    thread = threading.Thread(target=call_slow)
    thread.start()
    assert held.wait(5)
    assert chat(client).status_code == 200  # answered while the slow request is still held
    assert "response" not in slow
    release.set()
    thread.join(timeout=5)
    assert content(slow["response"]) == "late"


def test_after_delays_the_reply_by_at_least_its_seconds(client: httpx.Client, fake: FakeOpenRouter) -> None:
    fake.script(MODEL, Reply.text("late").after(0.3))
    started = time.monotonic()
    assert content(chat(client)) == "late"
    assert time.monotonic() - started >= 0.3  # a lower bound, which the sleep guarantees however busy the machine


def test_requests_are_recorded_with_headers_and_body(fake: FakeOpenRouter, client: httpx.Client) -> None:
    chat(client, response_format={"type": "json_object"}, max_tokens=10)
    chat(client, "other/model")
    recorded = fake.requests
    assert [request.model for request in recorded] == [MODEL, "other/model"]
    first = recorded[0]
    assert isinstance(first, RecordedRequest)
    assert first.path == "/api/v1/chat/completions"
    assert first.headers["authorization"] == "Bearer sk-test"
    assert first.headers["content-type"] == "application/json"
    assert first.body["response_format"] == {"type": "json_object"}
    assert first.body["max_tokens"] == 10
    assert first.received_at <= recorded[1].received_at <= time.monotonic()
    assert [request.model for request in fake.requests_for("other/model")] == ["other/model"]


def test_respond_with_overrides_scripts_until_cleared(fake: FakeOpenRouter, client: httpx.Client) -> None:
    fake.script(MODEL, Reply.text("scripted"))
    fake.respond_with(lambda request: Reply.json({"saw": request.body["messages"][0]["content"]}))
    assert json.loads(content(chat(client))) == {"saw": "hi"}
    fake.respond_with(None)
    assert content(chat(client)) == "scripted"


def test_respond_with_failure_is_a_500(fake: FakeOpenRouter, client: httpx.Client) -> None:
    def broken(request: RecordedRequest) -> Reply:
        raise RuntimeError("boom")

    fake.respond_with(broken)
    response = chat(client)
    assert response.status_code == 500
    assert "boom" in response.json()["error"]["message"]


def test_unknown_path_is_404_and_malformed_json_is_400(fake: FakeOpenRouter, client: httpx.Client) -> None:
    missing = client.post("/embeddings", json={"model": MODEL})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == 404
    assert client.get("/models").status_code == 404
    malformed = client.post("/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == 400
    assert chat(client).status_code == 200  # the connection survived all three


def test_reset_clears_everything(fake: FakeOpenRouter, client: httpx.Client) -> None:
    fake.script(MODEL, Reply.text("queued"))
    fake.set_default(Reply.status(500))
    fake.respond_with(lambda request: Reply.status(418))
    chat(client)
    fake.reset()
    assert fake.requests == []
    assert fake.pending(MODEL) == 0
    assert json.loads(content(chat(client))) == {"echo": MODEL}


def test_keep_alive_reuses_one_connection(fake: FakeOpenRouter, client: httpx.Client) -> None:
    fake.script(MODEL, Reply.status(429, retry_after="1"), Reply.body_error(500))
    for _ in range(20):
        chat(client)
    assert len(fake.requests) == 20
    assert fake.connections == 1


def test_concurrent_requests_are_all_answered_and_recorded(fake: FakeOpenRouter) -> None:
    models = [f"model/{index % 4}" for index in range(40)]
    for model in set(models):
        fake.script(model, *(Reply.json({"model": model, "n": n}) for n in range(10)))
    with httpx.Client(base_url=fake.base_url, trust_env=False, timeout=5.0,
                      limits=httpx.Limits(max_connections=20)) as http, ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(lambda model: chat(http, model), models))
    assert all(response.status_code == 200 for response in responses)
    for model in set(models):
        answered = sorted(json.loads(content(r))["n"] for r, m in zip(responses, models, strict=True) if m == model)
        assert answered == list(range(10))  # each scripted reply consumed exactly once
        assert fake.pending(model) == 0
    assert len(fake.requests) == 40


def test_exit_closes_idle_keep_alive_connections() -> None:
    def handler_threads() -> list[threading.Thread]:
        return [thread for thread in threading.enumerate() if "process_request_thread" in thread.name]

    with httpx.Client(trust_env=False) as http:
        with FakeOpenRouter() as fake:
            assert http.post(f"{fake.base_url}/chat/completions", json={"model": MODEL}).status_code == 200
            url = fake.base_url
            assert handler_threads()  # the client's pooled connection keeps one parked
        deadline = time.monotonic() + 1
        while handler_threads() and time.monotonic() < deadline:
            time.sleep(0.005)
        assert handler_threads() == []
        with pytest.raises(httpx.TransportError):
            http.post(f"{url}/chat/completions", json={"model": MODEL})
