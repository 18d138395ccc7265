"""Lambda entry point of the ingest function: HTTP routes, and S3 notifications under uploads/."""

from typing import Any

from sgd.adapters.tables import DynamoItemTable
from sgd.http.lambda_entry import lambda_entry
from sgd.http.routes.ingest import create_app
from sgd.ingest.uploads import process_upload_event
from sgd.settings import get_settings

settings = get_settings()  # cold start fails fast, naming the misconfigured variable
ledger = DynamoItemTable(settings.assets_table)  # its boto3 client is made on the first S3 event
app = create_app()


def pipeline_deps() -> Any:
    from sgd.ingest.pipeline import process_deps  # admission, extraction and Qdrant load on the first upload

    return process_deps()


def on_upload(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_upload_event(event, ledger, pipeline_deps)


handler = lambda_entry(app, on_s3_event=on_upload)
