"""Lambda entry point of the canon function: thin by design, all logic lives in the shared layer."""

from sgd.api.canon import create_app
from sgd.canon.service import local_canon_extractor
from sgd.gateway import model_gateway
from sgd.gateway.policy import load_policy
from sgd.http.lambda_entry import lambda_entry
from sgd.settings import get_settings

get_settings()  # cold start fails fast, naming the misconfigured variable
load_policy()  # ... and the field of a bad model policy
# With a provider key, canon derivation calls the model's canon task; offline, the local engine runs this
# deterministic extractor (imported on the first derivation, not at cold start).
app = create_app(model_gateway(canon_extractor=local_canon_extractor))
handler = lambda_entry(app)
