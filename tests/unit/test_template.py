"""template.yaml is the one source of truth; these pin what the issue requires of it."""

from sgd_local.template import LOCAL_PARAMETERS, Resolver, load_template, read_stack
from tests.conftest import ROOT

EXPECTED_ROUTES = {
    "POST /render": "RenderFunction", "GET /render/jobs/{job_id}": "RenderFunction",
    "DELETE /render/jobs/{job_id}": "RenderFunction", "GET /webhooks/signing-secret": "RenderFunction",
    "POST /uploads": "IngestFunction", "GET /uploads/{upload_id}": "IngestFunction",
    "POST /ingest": "IngestFunction", "POST /canon/derive": "CanonFunction", "GET /canon/{project_id}": "CanonFunction",
    "PUT /canon/{project_id}": "CanonFunction", "GET /canon/{project_id}/versions": "CanonFunction",
    "POST /critique": "CritiqueFunction", "GET /healthz": "CanonFunction", "GET /usage": "CanonFunction",
}


def test_routes_are_explicit_and_authorized_except_healthz() -> None:
    stack = read_stack(ROOT)
    assert {route.route_key: route.function for route in stack.routes} == EXPECTED_ROUTES
    assert all("+}" not in route.path for route in stack.routes)
    assert {route.route_key for route in stack.routes if not route.authorized} == {"GET /healthz"}
    assert stack.authorizer is not None
    assert stack.authorizer.audiences == ["sgd-api"]


def test_uploads_trigger_ingest() -> None:
    (trigger,) = read_stack(ROOT).s3_triggers
    assert trigger.function == "IngestFunction"
    assert trigger.events == ["s3:ObjectCreated:*"]
    assert trigger.filter_rules == [{"Name": "prefix", "Value": "uploads/"}]


def test_tables_have_ttl_and_the_idempotency_shape() -> None:
    tables = read_stack(ROOT).tables
    assert set(tables) == {"CacheTable", "IdempotencyTable", "JobsTable", "CanonTable", "UsageTable", "AssetsTable"}
    assert all(table.ttl_attribute for table in tables.values())
    idempotency = tables["IdempotencyTable"]
    assert idempotency.create_request["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert idempotency.ttl_attribute == "expiration"


def test_functions_are_least_privilege_with_their_own_logs_and_tracing() -> None:
    template = load_template(ROOT / "template.yaml")
    resolver = Resolver(template, LOCAL_PARAMETERS)
    resources = template["Resources"]
    functions = {k: v for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
    assert set(functions) >= {"RenderFunction", "IngestFunction", "CanonFunction", "CritiqueFunction"}
    for logical_id, function in functions.items():
        policies = resolver.resolve(function["Properties"]["Policies"])
        assert all(isinstance(policy, dict) and "Statement" in policy for policy in policies), logical_id
        for policy in policies:
            for statement in policy["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert all("*" not in action for action in actions), (logical_id, actions)
                resources_ = statement["Resource"] if isinstance(statement["Resource"], list) else [
                    statement["Resource"]]
                assert "*" not in resources_, (logical_id, statement)
        log_groups = [r for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup"]
        assert log_groups


def test_heavy_layers_go_only_where_used() -> None:
    stack = read_stack(ROOT)
    layers = {name: {path.name for path in spec.layer_dirs} for name, spec in stack.functions.items()}
    assert layers["CanonFunction"] == {"shared", "imaging"}
    assert "vectors" in layers["IngestFunction"]
    assert "vectors" not in layers["RenderFunction"] | layers["CritiqueFunction"]
    assert all(spec.timeout_s < 30 for spec in stack.functions.values())


def test_every_stage_but_dev_needs_a_qdrant_server() -> None:
    template = load_template(ROOT / "template.yaml")
    rule = template["Rules"]["DeployedStagesNeedAQdrantServer"]

    def allowed(stage: str, qdrant_url: str) -> bool:
        resolver = Resolver(template, LOCAL_PARAMETERS | {"Stage": stage, "QdrantUrl": qdrant_url})
        if not resolver.resolve(rule["RuleCondition"]):
            return True
        return all(resolver.resolve(assertion["Assert"]) for assertion in rule["Assertions"])

    assert allowed("dev", "")
    assert allowed("dev", "https://qdrant.example:6333")
    assert not allowed("prod", "")
    assert allowed("prod", "https://qdrant.example:6333")


def test_every_function_runs_from_a_primed_snapshot_behind_an_alias() -> None:
    template = load_template(ROOT / "template.yaml")
    function_globals = template["Globals"]["Function"]
    assert function_globals["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert function_globals["AutoPublishAlias"] == "live"  # SAM points the HTTP routes and S3 events at it
    mapping = template["Resources"]["RenderJobsEventSource"]["Properties"]
    assert mapping["FunctionName"] == {"Ref": "RenderFunction.Alias"}  # the queue invokes the alias too
    stack = read_stack(ROOT)
    assert all(spec.snap_start for spec in stack.functions.values())
    assert [trigger.function for trigger in stack.sqs_triggers] == ["RenderFunction"]
    for name in stack.functions:
        app = (ROOT / "functions" / name.removesuffix("Function").lower() / "app.py").read_text()
        assert f'snapstart.register("{name.removesuffix("Function").lower()}", settings, handler)' in app


def test_org_rate_limit_defaults_reach_every_function() -> None:
    stack = read_stack(ROOT)
    for spec in stack.functions.values():
        assert spec.environment["SGD_RATE_LIMITS"] == "render=50,critique=50,ingest=50,reads=100"
        assert spec.environment["SGD_RATE_LIMIT_WINDOW_SECONDS"] == "10"
        assert spec.environment["SGD_RATE_LIMIT_BURST_SHARE"] == "0.25"
