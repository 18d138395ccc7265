"""The emulated JWT authorizer answers like API Gateway: 401 before the function is ever invoked."""

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

pytestmark = pytest.mark.integration


def claims(runtime: Any, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": runtime.stack.authorizer.issuer, "aud": "sgd-api", "sub": "u1", "org": "acme",
            "iat": now, "exp": now + 600} | changes


def sign(runtime: Any, payload: dict[str, Any], key: Any = None) -> str:
    return jwt.encode(payload, key or runtime.signing_key.private_key, algorithm="RS256")


@pytest.mark.parametrize(("case", "description"), [
    ("missing", "the token is missing"),
    ("expired", "the token has expired"),
    ("not_yet_valid", "the token is not valid yet"),
    ("wrong_audience", "the token does not have a valid audience"),
    ("wrong_issuer", "the token has an invalid issuer"),
    ("garbage", "the token is malformed or its signature is invalid"),
    ("foreign_key", "the token is malformed or its signature is invalid"),
    ("alg_none", "the token is malformed or its signature is invalid"),
])
def test_bad_tokens_are_401_with_the_reason_in_www_authenticate(runtime: Any, api: Any, case: str,
                                                               description: str) -> None:
    now = int(time.time())
    tokens = {
        "missing": None,
        "expired": sign(runtime, claims(runtime, exp=now - 5)),
        "not_yet_valid": sign(runtime, claims(runtime, nbf=now + 600)),
        "wrong_audience": sign(runtime, claims(runtime, aud="someone-else")),
        "wrong_issuer": sign(runtime, claims(runtime, iss="https://evil.example/")),
        "garbage": "not.a.jwt",
        "foreign_key": sign(runtime, claims(runtime), rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "alg_none": jwt.encode(claims(runtime), None, algorithm="none"),
    }
    invocations_before = runtime.pools["CanonFunction"]._busy
    response = api.request("GET", "/canon/spring", token=tokens[case])
    assert response.status == 401
    assert response.json() == {"message": "Unauthorized"}
    assert f'error_description="{description}"' in response.headers["www-authenticate"]
    assert runtime.pools["CanonFunction"]._busy == invocations_before


def test_cognito_style_client_id_is_accepted_as_audience(runtime: Any, api: Any) -> None:
    payload = claims(runtime, client_id="sgd-api")
    payload.pop("aud")
    response = api.request("GET", "/canon/spring", token=sign(runtime, payload))
    assert response.status == 404  # past the authorizer, into the handler: no canon yet
    assert response.json()["error"]["code"] == "not_found"


def test_valid_claims_reach_the_handler_and_tag_its_logs(runtime: Any, api: Any) -> None:
    token = runtime.token("initech", extra={"groups": ["design", "admin"]})
    response = api.request("GET", "/canon/launch", token=token)
    assert response.status == 404
    assert response.json()["error"]["code"] == "not_found"
    log = (runtime.options.data_dir / "logs" / "CanonFunction.log").read_text().splitlines()
    handled = [json.loads(line) for line in log if '"request handled"' in line]
    mine = [entry for entry in handled if entry.get("org") == "initech"]
    assert mine
    assert mine[-1]["project"] == "launch"
    assert mine[-1]["status"] == 404
    assert mine[-1]["correlation_id"] == response.headers["x-request-id"]
