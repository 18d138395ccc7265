"""The caller, from the JWT claims API Gateway verified. Tenancy never comes from anywhere else."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from sgd.errors import Forbidden, Unauthorized
from sgd.http.app import request_id_of
from sgd.observability import logger
from sgd.tenancy import IDENTIFIER_PATTERN, Tenant, is_identifier


@dataclass(frozen=True, slots=True)
class Caller:
    org: str
    subject: str
    request_id: str

    def tenant(self, project_id: str) -> Tenant:
        """Scopes the request to one of the caller's projects, and tags the logs with it."""
        logger.append_keys(project=project_id)
        return Tenant(self.org, project_id)


def verified_claims(request: Request) -> dict[str, str]:
    event = request.scope.get("aws.event") or {}
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    return (authorizer.get("jwt") or {}).get("claims") or {}


def current_caller(request: Request) -> Caller:
    """FastAPI dependency: 401 without verified claims, 403 when the org claim is missing or malformed."""
    claims = verified_claims(request)
    if not claims:
        raise Unauthorized("no verified token: call through API Gateway with 'Authorization: Bearer <JWT>'")
    claim: str = request.app.state.org_claim  # SGD_ORG_CLAIM, given to the app by the composition root
    org = claims.get(claim)
    if not org:
        raise Forbidden(f"the token has no '{claim}' claim; ask your identity provider to add it")
    if not is_identifier(org):
        raise Forbidden(f"the token's '{claim}' claim must match {IDENTIFIER_PATTERN}")
    logger.append_keys(org=org)
    return Caller(org=org, subject=claims.get("sub", ""), request_id=request_id_of(request.scope))
