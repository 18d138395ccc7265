"""Cold start is a product feature: a function must not import heavy modules it does not use."""

import json
import subprocess
import sys

import pytest

from sgd_local.lambda_host import lambda_environment
from sgd_local.template import read_stack
from tests.conftest import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]
# Top-level packages, or exact modules where the package itself is light (Powertools imports `botocore`).
HEAVY = ("qdrant_client", "numpy", "PIL", "jsonschema", "moto", "grpc", "boto3", "botocore.session",
         "botocore.client", "aws_xray_sdk.core", "pydantic_settings")
# Functions that call models validate policies/openrouter_policy.json against its JSON Schema during the cold
# start (a bad policy must stop the function there); the ingest function calls no model and stays without it.
ALLOWED = {"jsonschema": {"RenderFunction", "CanonFunction", "CritiqueFunction"}}
PROBE = """
import json, sys
from sgd_local.lambda_host import load_handler
from sgd_local.template import read_stack
spec = read_stack(__import__("pathlib").Path(sys.argv[1])).functions[sys.argv[2]]
load_handler(spec, json.loads(sys.argv[3]))
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("function", ["RenderFunction", "IngestFunction", "CanonFunction", "CritiqueFunction"])
def test_handlers_import_no_heavy_modules_at_cold_start(function: str) -> None:
    spec = read_stack(ROOT).functions[function]
    environment = lambda_environment(spec, {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    result = subprocess.run([sys.executable, "-c", PROBE, str(ROOT), function, json.dumps(environment)],
                            capture_output=True, text=True, check=True, cwd=ROOT)
    loaded = set(json.loads(result.stdout.splitlines()[-1]))
    heavy = sorted(name for name in HEAVY if name in loaded and function not in ALLOWED.get(name, ()))
    assert heavy == [], f"{function} imports {heavy} at cold start"
