"""Lambda entry point of the ingest function: HTTP routes, and S3 notifications under uploads/."""

from typing import Any

from sgd.adapters.tables import DynamoItemTable
from sgd.api.ingest import create_app
from sgd.http.lambda_entry import lambda_entry
from sgd.ingest.uploads import record_uploads
from sgd.settings import get_settings

settings = get_settings()  # cold start fails fast, naming the misconfigured variable
ledger = DynamoItemTable(settings.assets_table)  # its boto3 client is made on the first S3 event
app = create_app()


def on_upload(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return record_uploads(event, ledger)


handler = lambda_entry(app, on_s3_event=on_upload)
