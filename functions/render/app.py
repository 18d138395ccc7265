"""Lambda entry point of the render function: thin by design; sgd.composition builds everything it serves."""

from sgd import snapstart
from sgd.composition import render_function
from sgd.settings import load_settings

# The cold start: a misconfigured variable or an invalid policy stops it here, with a message naming it.
settings = load_settings()
function = render_function(settings)
app = function.app
handler = function.handler
# SnapStart: prime before the snapshot, reset per-instance state after restore (no-op without SnapStart).
snapstart.register("render", settings, handler)
