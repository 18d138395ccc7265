"""Remote embedding models (the ingest embedders' DenseModel port): Amazon Bedrock Titan, or any OpenAI-compatible
/embeddings API."""

from __future__ import annotations

import json

from sgd.adapters.aws import ClientSource


class BedrockTitanModel:
    """Amazon Bedrock Titan text embeddings: one invoke_model call per text (Titan takes one input)."""

    def __init__(self, model: str, clients: ClientSource) -> None:
        self.model = model
        self._clients = clients

    def vectors(self, texts: list[str]) -> list[list[float]]:
        client = self._clients("bedrock-runtime")
        result = []
        for text in texts:
            response = client.invoke_model(modelId=self.model, contentType="application/json",
                                           accept="application/json", body=json.dumps({"inputText": text}))
            result.append([float(value) for value in json.loads(response["body"].read())["embedding"]])
        return result


class OpenAICompatibleModel:
    """POST {url}/embeddings {"model", "input": [...]} -> {"data": [{"index", "embedding"}]}."""

    def __init__(self, model: str, url: str, api_key: str, *, timeout_s: float = 20.0) -> None:
        if not (url.startswith("https://") or url.startswith(("http://127.0.0.1:", "http://localhost:"))):
            raise ValueError("SGD_EMBEDDINGS_URL must be https (plain http only to a loopback address)")
        self.model = model
        self._url = url.rstrip("/") + "/embeddings"
        self._api_key = api_key
        self._timeout_s = timeout_s

    def vectors(self, texts: list[str]) -> list[list[float]]:
        import httpx

        response = httpx.post(self._url, json={"model": self.model, "input": texts}, timeout=self._timeout_s,
                              headers={"authorization": f"Bearer {self._api_key}"} if self._api_key else {})
        response.raise_for_status()
        data = sorted(response.json()["data"], key=lambda item: item["index"])
        if len(data) != len(texts):
            raise ValueError(f"the embeddings API returned {len(data)} vectors for {len(texts)} texts")
        return [[float(value) for value in item["embedding"]] for item in data]
