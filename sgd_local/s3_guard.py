"""The embedded S3 refuses what real S3 refuses: anonymous writes, and presigned POSTs that break their policy.

moto accepts any form POST to a bucket: a changed `key` (another org's uploads/ prefix), an expired or unsigned
policy, a file over the policy's content-length-range. Real S3 checks the POST policy's SigV4 signature and
expiry, that every form field is covered by a condition and satisfies it (`key`, `Content-Type`, `bucket`, ...),
and the file's size against content-length-range; and it refuses unsigned PUT/POST/DELETE to a private bucket.
This WSGI guard sits in front of moto's app (sgd_local.moto_main) and does the same, with S3's error shapes
(403 AccessDenied, 400 EntityTooLarge/EntityTooSmall).

Only S3 is guarded: a signed request (Authorization header or presigned query) names its service in the
credential scope, and any other service passes untouched.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from sgd_local.aws import LOCAL_CREDENTIALS
from sgd_local.journal import REPLAY_KEY

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
WRITE_METHODS = frozenset({"PUT", "POST", "DELETE", "PATCH"})
# Form fields S3 never requires a condition for (x-ignore-* too).
UNCONDITIONED_FIELDS = frozenset({"policy", "x-amz-signature", "signature", "awsaccesskeyid", "file"})
MAX_FORM_BYTES = 64 * 1024 * 1024


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def s3_error(status: int, code: str, message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message></Error>").encode()
    reason = {400: "Bad Request", 403: "Forbidden"}.get(status, "Error")
    return f"{status} {reason}", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))], body


def signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    """SigV4's derived key: HMAC chain over the date, region and service."""
    key = f"AWS4{secret}".encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _credential_service(environ: dict[str, Any]) -> str | None:
    """The service a signed request names in its credential scope; None when it is not signed."""
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if "Credential=" in authorization:
        scope = authorization.split("Credential=", 1)[1].split(",", 1)[0]
        parts = scope.split("/")
        return parts[3] if len(parts) >= 5 else "unknown"
    if authorization:
        return "unknown"
    query = parse_qs(environ.get("QUERY_STRING", ""))
    credential = (query.get("X-Amz-Credential") or [""])[0]
    if credential:
        parts = credential.split("/")
        return parts[3] if len(parts) >= 5 else "unknown"
    if "Signature" in query or "AWSAccessKeyId" in query:
        return "s3"
    return None


def _is_form_post(environ: dict[str, Any]) -> bool:
    return environ.get("REQUEST_METHOD") == "POST" and environ.get("CONTENT_TYPE", "").startswith(
        "multipart/form-data")


def _bucket_of(environ: dict[str, Any]) -> str:
    path = environ.get("PATH_INFO", "/").lstrip("/")
    return path.split("/", 1)[0]


def _read_form(environ: dict[str, Any]) -> tuple[dict[str, str], int | None]:
    """The form's fields (names lower-cased, as S3 compares them) and the size of its file part."""
    from werkzeug.formparser import parse_form_data

    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length > MAX_FORM_BYTES:
        raise Refused(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)  # moto reads the same bytes afterwards
    copy = dict(environ, **{"wsgi.input": io.BytesIO(body)})
    _, form, files = parse_form_data(copy)
    fields = {name.lower(): value for name, value in form.items()}
    uploaded = files.get("file")
    size = len(uploaded.read()) if uploaded is not None else None
    environ["wsgi.input"] = io.BytesIO(body)
    return fields, size


def _check_signature(fields: dict[str, str], encoded: str) -> None:
    """SigV4 (x-amz-algorithm AWS4-HMAC-SHA256, x-amz-credential, x-amz-signature) or SigV2 (AWSAccessKeyId,
    signature: base64 HMAC-SHA1), whichever the form carries; boto3 picks by its client's signature version."""
    access_key, secret = LOCAL_CREDENTIALS["aws_access_key_id"], LOCAL_CREDENTIALS["aws_secret_access_key"]
    if "x-amz-signature" in fields:
        credential = fields.get("x-amz-credential", "").split("/")
        if fields.get("x-amz-algorithm") != "AWS4-HMAC-SHA256" or len(credential) != 5:
            raise Refused(400, "InvalidArgument", "x-amz-algorithm and x-amz-credential are required with "
                          "x-amz-signature")
        given_key, given = credential[0], fields["x-amz-signature"]
        expected = hmac.new(signing_key(secret, credential[1], credential[2], credential[3]), encoded.encode(),
                            hashlib.sha256).hexdigest()
    elif "signature" in fields:
        given_key, given = fields.get("awsaccesskeyid", ""), fields["signature"]
        expected = base64.b64encode(hmac.new(secret.encode(), encoded.encode(), hashlib.sha1).digest()).decode()
    else:
        raise Refused(403, "AccessDenied", "Anonymous users cannot upload: the form carries no signature")
    if given_key != access_key:
        raise Refused(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records")
    if not hmac.compare_digest(expected, given):
        raise Refused(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                      "signature you provided")


def check_post_policy(fields: dict[str, str], size: int | None, bucket: str, *,
                      now: datetime | None = None) -> None:
    """Raises Refused unless the form is a signed presigned POST whose policy it satisfies, as S3 checks it."""
    now = now or datetime.now(UTC)
    encoded = fields.get("policy")
    if not encoded:
        raise Refused(403, "AccessDenied", "Anonymous users cannot upload: the form carries no signed policy")
    _check_signature(fields, encoded)
    try:
        policy = json.loads(base64.b64decode(encoded, validate=True))
        expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
        conditions = list(policy["conditions"])
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise Refused(400, "InvalidPolicyDocument", f"Invalid Policy: {error}") from None
    if expires <= now:
        raise Refused(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    values = dict(fields, bucket=bucket)
    covered: set[str] = set()
    for condition in conditions:
        covered |= _check_condition(condition, values, size)
    for name in fields:
        if name not in covered and name not in UNCONDITIONED_FIELDS and not name.startswith("x-ignore-"):
            raise Refused(403, "AccessDenied", f"Invalid according to Policy: Extra input fields: {name}")
    if size is None:
        raise Refused(400, "InvalidArgument", "POST requires exactly one file upload per request.")


def _check_condition(condition: Any, values: dict[str, str], size: int | None) -> set[str]:
    """Checks one policy condition; returns the field names it covers."""
    if isinstance(condition, dict) and len(condition) == 1:
        ((name, expected),) = condition.items()
        name = name.lower()
        if values.get(name) != expected:
            raise Refused(403, "AccessDenied", f'Invalid according to Policy: Policy Condition failed: '
                          f'["eq", "${name}", "{expected}"]')
        return {name}
    if isinstance(condition, list) and len(condition) == 3:
        operator = str(condition[0]).lower()
        if operator == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if size is not None and size > high:
                raise Refused(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
            if size is not None and size < low:
                raise Refused(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
            return set()
        name = str(condition[1]).lstrip("$").lower()
        actual = values.get(name)
        if (operator == "eq" and actual != condition[2]) or (
                operator == "starts-with" and (actual is None or not actual.startswith(str(condition[2])))):
            raise Refused(403, "AccessDenied", f"Invalid according to Policy: Policy Condition failed: "
                          f'["{operator}", "${name}", "{condition[2]}"]')
        if operator not in ("eq", "starts-with"):
            raise Refused(400, "InvalidPolicyDocument", f"Invalid Policy: unknown condition {operator!r}")
        return {name}
    raise Refused(400, "InvalidPolicyDocument", f"Invalid Policy: malformed condition {condition!r}")


def guard(app: WsgiApp) -> WsgiApp:
    """moto's app behind S3's write rules."""

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method in WRITE_METHODS and not environ.get("PATH_INFO", "").startswith("/moto-api"):
            service = _credential_service(environ)
            try:
                if service is None and _is_form_post(environ):
                    fields, size = _read_form(environ)
                    check_post_policy(fields, size, _bucket_of(environ))
                elif service is None:
                    raise Refused(403, "AccessDenied", "Access Denied: anonymous writes are not allowed")
            except Refused as refused:
                status, headers, body = s3_error(refused.status, refused.code, refused.message)
                start_response(status, headers)
                return [body]
        return app(environ, start_response)

    return guarded


def enforce_s3_policies() -> None:
    """Puts the guard in front of every moto server app this process builds (sgd_local.moto_main)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    dispatch = DomainDispatcherApplication.__call__

    def guarded_call(self: Any, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get(REPLAY_KEY):  # the runtime's journal replay: writes S3 accepted once, not requests
            return dispatch(self, environ, start_response)
        return guard(lambda env, respond: dispatch(self, env, respond))(environ, start_response)

    DomainDispatcherApplication.__call__ = guarded_call  # type: ignore[method-assign]
