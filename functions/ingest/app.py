"""Lambda entry point of the ingest function: thin by design; sgd.composition builds everything it serves."""

from sgd.composition import ingest_function
from sgd.settings import load_settings

# The cold start: a misconfigured variable or an invalid policy stops it here, with a message naming it.
function = ingest_function(load_settings())
app = function.app
handler = function.handler
