"""The JWT authorizer, emulated: RS256 tokens signed by a local key, checked as API Gateway checks them.

API Gateway verifies the signature against the issuer's JWKS, then exp, nbf, iss and aud (or client_id),
and answers 401 {"message": "Unauthorized"} itself; the function never sees a rejected request.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from sgd_local.template import Authorizer

KEY_ID = "sgd-local-1"


class LocalSigningKey:
    """An RSA key kept in .sgd/keys, so tokens stay valid across restarts."""

    def __init__(self, keys_dir: Path):
        path = keys_dir / "jwt-signing-key.pem"
        if not path.exists():
            keys_dir.mkdir(parents=True, exist_ok=True)
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            path.write_bytes(pem)
            path.chmod(0o600)
        private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise ValueError(f"{path} is not an RSA key: delete it and a new one is made")
        self.private_key: rsa.RSAPrivateKey = private_key
        self.public_key: rsa.RSAPublicKey = private_key.public_key()

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.public_key))
        return {"keys": [jwk | {"kid": KEY_ID, "use": "sig", "alg": "RS256"}]}

    def issue(self, authorizer: Authorizer, *, org: str, subject: str = "local-user", ttl_seconds: int = 3600,
              audience: str | None = None, extra: dict[str, Any] | None = None) -> str:
        now = int(time.time())
        claims = {
            "iss": authorizer.issuer, "aud": audience or authorizer.audiences[0], "sub": subject, "org": org,
            "iat": now, "nbf": now, "exp": now + ttl_seconds, "jti": uuid.uuid4().hex,
        } | (extra or {})
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": KEY_ID})


@dataclass(frozen=True)
class Rejection:
    description: str

    @property
    def headers(self) -> dict[str, str]:
        return {"www-authenticate": f'Bearer scope="" error="invalid_token" error_description="{self.description}"'}


def _as_event_claim(value: Any) -> str:
    # API Gateway hands claims to the function as strings; arrays look like "[a b]".
    if isinstance(value, list):
        return "[" + " ".join(str(item) for item in value) + "]"
    return value if isinstance(value, str) else json.dumps(value)


def verify(authorization: str | None, key: LocalSigningKey, authorizer: Authorizer) -> dict[str, str] | Rejection:
    """The claims API Gateway would pass on, or why it would answer 401."""
    if not authorization:
        return Rejection("the token is missing")
    token = authorization.removeprefix("Bearer ").strip()
    try:
        claims = jwt.decode(
            token, key.public_key, algorithms=["RS256"], issuer=authorizer.issuer,
            options={"require": ["exp", "iss"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        return Rejection("the token has expired")
    except jwt.ImmatureSignatureError:
        return Rejection("the token is not valid yet")
    except jwt.InvalidIssuerError:
        return Rejection("the token has an invalid issuer")
    except jwt.PyJWTError:
        return Rejection("the token is malformed or its signature is invalid")
    audiences = claims.get("aud", claims.get("client_id"))
    audiences = audiences if isinstance(audiences, list) else [audiences]
    if not set(audiences) & set(authorizer.audiences):
        return Rejection("the token does not have a valid audience")
    return {name: _as_event_claim(value) for name, value in claims.items()}
