"""Lambda entry point of the critique function: thin by design, all logic lives in the shared layer."""

from sgd.critique.policy import load_critique_policy
from sgd.http.lambda_entry import lambda_entry
from sgd.http.routes.critique import create_app
from sgd.model_gateway.policy import load_policy
from sgd.settings import get_settings

get_settings()  # cold start fails fast, naming the misconfigured variable
load_policy()  # ... and the field of a bad model policy
load_critique_policy()  # ... and of a bad critique policy
# The model gateway (and with a provider key, the OpenRouter client) is built on the first critique, not here.
app = create_app()
handler = lambda_entry(app)
