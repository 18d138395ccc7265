"""A message queue (SQS) behind one method."""

from __future__ import annotations

from sgd.adapters.aws import ClientSource


class SqsQueue:
    def __init__(self, queue_url: str, clients: ClientSource) -> None:
        self.queue_url = queue_url
        self._clients = clients

    def send(self, body: str) -> None:
        self._clients("sqs").send_message(QueueUrl=self.queue_url, MessageBody=body)
