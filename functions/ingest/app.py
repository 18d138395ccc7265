"""Lambda entry point of the ingest function: HTTP routes, and S3 notifications under uploads/."""

import functools
from typing import Any

from sgd.adapters.tables import DynamoItemTable
from sgd.api.ingest import create_app
from sgd.http.lambda_entry import lambda_entry
from sgd.ingest.uploads import record_uploads
from sgd.settings import get_settings

settings = get_settings()  # cold start fails fast, naming the misconfigured variable
app = create_app()


@functools.cache
def upload_ledger() -> DynamoItemTable:
    """Created on the first S3 event and reused while warm: HTTP cold starts don't pay for boto3."""
    return DynamoItemTable(settings.assets_table)


def on_upload(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return record_uploads(event, upload_ledger())


handler = lambda_entry(app, on_s3_event=on_upload)
