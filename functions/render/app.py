"""Lambda entry point of the render function: HTTP routes, and the render jobs queue (SQS, one job per message)."""

from sgd.critique.policy import load_critique_policy
from sgd.http.lambda_entry import lambda_entry
from sgd.http.routes.render import create_app
from sgd.model_gateway.policy import load_policy
from sgd.render.content_policy import content_policy
from sgd.render.worker import handle_job_messages
from sgd.settings import get_settings

get_settings()  # cold start fails fast, naming the misconfigured variable
load_policy()  # ... and the field of a bad model policy
content_policy()  # ... and of a bad content policy; compiled once per cold start
load_critique_policy()  # ... and of a bad critique policy (every render is critiqued, repaired by its rules)
app = create_app()
handler = lambda_entry(app, on_sqs_event=handle_job_messages)
