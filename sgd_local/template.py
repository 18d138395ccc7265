"""Reads template.yaml: the one source of truth for functions, routes, tables, the bucket and the authorizer.

The local runtime never keeps a second, hand-written copy of any of these.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

LOCAL_ACCOUNT = "123456789012"
LOCAL_REGION = "us-east-1"
LOCAL_PARAMETERS = {"Stage": "local", "JwtIssuer": "https://sgd.local/", "JwtAudience": "sgd-api"}
NO_VALUE = object()
# `!Ref SomeQueue` is a queue URL, which depends on the embedded AWS endpoint (known only once it runs): the
# resolver leaves this marker, and queue_urls_in() fills it in for the running endpoint.
_QUEUE_URL_MARKER = re.compile(r"\{\{local-queue-url:([A-Za-z0-9_-]+)\}\}")


def queue_url_marker(name: str) -> str:
    return "{{local-queue-url:" + name + "}}"


def local_queue_url(endpoint: str, name: str) -> str:
    """The URL the embedded SQS (moto) gives a queue: {endpoint}/{account}/{name}."""
    return f"{endpoint.rstrip('/')}/{LOCAL_ACCOUNT}/{name}"


def queue_urls_in(value: str, endpoint: str) -> str:
    return _QUEUE_URL_MARKER.sub(lambda match: local_queue_url(endpoint, match.group(1)), value)


def queue_arn(name: str) -> str:
    return f"arn:aws:sqs:{LOCAL_REGION}:{LOCAL_ACCOUNT}:{name}"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that turns CloudFormation short tags (!Ref, !Sub, ...) into their long form."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise yaml.constructor.ConstructorError(None, None, f"unexpected {type(node).__name__} for !{suffix}",
                                             node.start_mark)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    authorized: bool

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{([A-Za-z0-9_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        return re.compile(f"^{regex}$")


@dataclass(frozen=True)
class S3Trigger:
    function: str
    event_name: str
    bucket: str
    events: list[str]
    filter_rules: list[dict[str, str]]


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    name: str
    attributes: dict[str, str]  # CreateQueue attributes (VisibilityTimeout, ...), RedrivePolicy as JSON
    dead_letter_queue: str | None = None  # logical id of the redrive target
    max_receive_count: int | None = None


@dataclass(frozen=True)
class SqsTrigger:
    """An SQS event source of a function: SAM's `Type: SQS` event or an AWS::Lambda::EventSourceMapping."""

    function: str
    name: str
    queue: str  # the queue's logical id
    batch_size: int = 10
    report_batch_item_failures: bool = False


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    layer_dirs: list[Path]
    environment: dict[str, str]
    timeout_s: int
    memory_mb: int
    snap_start: bool = False  # SnapStart: ApplyOn: PublishedVersions
    provisioned: int = 0  # ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions

    @property
    def module_and_attribute(self) -> tuple[str, str]:
        module, _, attribute = self.handler.rpartition(".")
        return module, attribute


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    create_request: dict[str, Any]
    ttl_attribute: str | None


@dataclass(frozen=True)
class Authorizer:
    issuer: str
    audiences: list[str]


@dataclass
class Stack:
    """The resolved local view of the template."""

    root: Path
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    tables: dict[str, TableSpec] = field(default_factory=dict)
    bucket_name: str = ""
    bucket_logical_id: str = ""
    s3_triggers: list[S3Trigger] = field(default_factory=list)
    queues: dict[str, QueueSpec] = field(default_factory=dict)
    sqs_triggers: list[SqsTrigger] = field(default_factory=list)
    authorizer: Authorizer | None = None
    throttle_rate: float = 0.0  # the HTTP API's DefaultRouteSettings (0: no throttle)
    throttle_burst: int = 0


class Resolver:
    """Resolves the intrinsic functions the template uses, with local values for parameters and names."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, str]):
        self.template = template
        defaults = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
        self.parameters = defaults | parameters
        self.pseudo = {
            "AWS::AccountId": LOCAL_ACCOUNT, "AWS::Region": LOCAL_REGION, "AWS::Partition": "aws",
            "AWS::StackName": f"sgd-{self.parameters.get('Stage', 'local')}", "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }
        self.physical_names: dict[str, str] = {}

    def name_of(self, logical_id: str) -> str:
        return self.physical_names.get(logical_id, logical_id)

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.template.get("Resources", {}):
            if self.template["Resources"][name]["Type"] == "AWS::SQS::Queue":
                return queue_url_marker(self.name_of(name))
            return self.name_of(name)
        raise KeyError(f"!Ref {name}: no such parameter or resource in template.yaml")

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template.get("Conditions", {})[name]))

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            token = match.group(1)
            if token.startswith("!"):
                return "${" + token[1:] + "}"
            if token in variables:
                return str(self.resolve(variables[token]))
            if "." in token:
                logical_id, attribute = token.split(".", 1)
                return str(self.resolve({"Fn::GetAtt": [logical_id, attribute]}))
            return str(self.ref(token))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                return self._sub(text, variables)
            if key == "Fn::GetAtt":
                logical_id, attribute = argument
                kind = self.template["Resources"][logical_id]["Type"].split("::")[1].lower()
                if kind == "sqs":
                    return {"Arn": queue_arn(self.name_of(logical_id)), "QueueName": self.name_of(logical_id),
                            "QueueUrl": queue_url_marker(self.name_of(logical_id))}[attribute]
                return f"arn:aws:{kind}:{LOCAL_REGION}:{LOCAL_ACCOUNT}:{self.name_of(logical_id)}/{attribute}"
            if key == "Fn::If":
                name, when_true, when_false = argument
                return self.resolve(when_true if self.condition(name) else when_false)
            if key == "Fn::Equals":
                left, right = (self.resolve(v) for v in argument)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(argument[0])
            if key == "Fn::And":
                return all(self.resolve(v) for v in argument)
            if key == "Fn::Or":
                return any(self.resolve(v) for v in argument)
            if key == "Condition":
                return self.condition(argument)
            if key == "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(items))
            if key == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(index)]
        return {k: v for k, v in ((k, self.resolve(v)) for k, v in value.items()) if v is not NO_VALUE}


def _environment(resolver: Resolver, *sources: dict[str, Any]) -> dict[str, str]:
    merged: dict[str, Any] = {}
    for source in sources:
        merged |= (source.get("Environment") or {}).get("Variables") or {}
    resolved = resolver.resolve(merged)
    return {name: str(value) for name, value in resolved.items()}


def read_stack(root: Path, parameters: dict[str, str] | None = None) -> Stack:
    """The template as the local runtime needs it: functions, routes, tables, bucket, triggers, authorizer."""
    template = load_template(root / "template.yaml")
    resolver = Resolver(template, LOCAL_PARAMETERS | (parameters or {}))
    resources: dict[str, Any] = template["Resources"]
    stack = Stack(root=root)

    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::S3::Bucket":
            stack.bucket_logical_id = logical_id
            stack.bucket_name = str(resolver.resolve(resource["Properties"]["BucketName"]))
            resolver.physical_names[logical_id] = stack.bucket_name

    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::SQS::Queue":
            name = (resource.get("Properties") or {}).get("QueueName")
            resolver.physical_names[logical_id] = str(resolver.resolve(name)) if name else logical_id
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::SQS::Queue":
            stack.queues[logical_id] = _queue_spec(logical_id, resource.get("Properties") or {}, resolver)
        elif resource["Type"] == "AWS::Lambda::EventSourceMapping":
            properties = resource["Properties"]
            queue = _queue_of_arn(properties.get("EventSourceArn"))
            function = properties.get("FunctionName")
            function = function.get("Ref") if isinstance(function, dict) else function
            if isinstance(function, str) and function.endswith(".Alias"):  # SAM's alias of AutoPublishAlias
                function = function.removesuffix(".Alias")
            if queue and function in resources:
                stack.sqs_triggers.append(_sqs_trigger(str(function), logical_id, queue, properties))

    globals_function = (template.get("Globals") or {}).get("Function") or {}
    default_auth = None
    for logical_id, resource in resources.items():
        properties = resource.get("Properties") or {}
        if resource["Type"] == "AWS::DynamoDB::Table":
            request = {key: resolver.resolve(properties[key]) for key in
                       ("KeySchema", "AttributeDefinitions", "BillingMode", "GlobalSecondaryIndexes")
                       if key in properties}
            ttl = properties.get("TimeToLiveSpecification") or {}
            stack.tables[logical_id] = TableSpec(
                logical_id, {"TableName": logical_id, **request},
                ttl.get("AttributeName") if ttl.get("Enabled") else None,
            )
        elif resource["Type"] == "AWS::Serverless::HttpApi":
            route_settings = properties.get("DefaultRouteSettings") or {}
            stack.throttle_rate = float(resolver.resolve(route_settings.get("ThrottlingRateLimit", 0)))
            stack.throttle_burst = int(resolver.resolve(route_settings.get("ThrottlingBurstLimit", 0)))
            auth = properties.get("Auth") or {}
            default_auth = auth.get("DefaultAuthorizer")
            if default_auth:
                config = auth["Authorizers"][default_auth]["JwtConfiguration"]
                stack.authorizer = Authorizer(
                    issuer=str(resolver.resolve(config["issuer"])),
                    audiences=[str(a) for a in resolver.resolve(config["audience"])],
                )

    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        merged = globals_function | properties
        layer_dirs = []
        for layer in properties.get("Layers") or []:
            layer_id = layer["Ref"] if isinstance(layer, dict) else layer
            content = resources[layer_id]["Properties"]["ContentUri"]
            layer_dirs.append((root / content).resolve())
        stack.functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_dir=(root / merged["CodeUri"]).resolve(),
            handler=merged["Handler"],
            layer_dirs=layer_dirs,
            environment=_environment(resolver, globals_function, properties),
            timeout_s=int(merged.get("Timeout", 3)),
            memory_mb=int(merged.get("MemorySize", 128)),
            snap_start=(merged.get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions",
            provisioned=int(resolver.resolve((merged.get("ProvisionedConcurrencyConfig") or {}).get(
                "ProvisionedConcurrentExecutions", 0))),
        )
        for event_name, event in (properties.get("Events") or {}).items():
            event_properties = event.get("Properties") or {}
            if event["Type"] == "HttpApi":
                authorizer = (event_properties.get("Auth") or {}).get("Authorizer", default_auth)
                stack.routes.append(Route(
                    method=event_properties["Method"].upper(), path=event_properties["Path"],
                    function=logical_id, authorized=bool(authorizer) and authorizer != "NONE",
                ))
            elif event["Type"] == "S3":
                rules = ((event_properties.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
                events = event_properties["Events"]
                stack.s3_triggers.append(S3Trigger(
                    function=logical_id, event_name=event_name,
                    bucket=str(resolver.resolve(event_properties["Bucket"])),
                    events=events if isinstance(events, list) else [events],
                    filter_rules=[{"Name": r["Name"], "Value": str(resolver.resolve(r["Value"]))} for r in rules],
                ))
            elif event["Type"] == "SQS":
                queue = _queue_of_arn(event_properties.get("Queue"))
                if queue:
                    stack.sqs_triggers.append(_sqs_trigger(logical_id, event_name, queue, event_properties))
    return stack


def _queue_of_arn(value: Any) -> str | None:
    """The logical id in `!GetAtt Queue.Arn`; None for anything else (a queue outside the template)."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return logical_id if attribute == "Arn" else None
    return None


def _sqs_trigger(function: str, name: str, queue: str, properties: dict[str, Any]) -> SqsTrigger:
    return SqsTrigger(function=function, name=name, queue=queue, batch_size=int(properties.get("BatchSize", 10)),
                      report_batch_item_failures="ReportBatchItemFailures" in (
                          properties.get("FunctionResponseTypes") or []))


_QUEUE_ATTRIBUTES = ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "MaximumMessageSize",
                     "ReceiveMessageWaitTimeSeconds")


def _queue_spec(logical_id: str, properties: dict[str, Any], resolver: Resolver) -> QueueSpec:
    attributes = {name: str(resolver.resolve(properties[name])) for name in _QUEUE_ATTRIBUTES if name in properties}
    redrive = properties.get("RedrivePolicy") or {}
    target = _queue_of_arn(redrive.get("deadLetterTargetArn"))
    count = int(redrive["maxReceiveCount"]) if "maxReceiveCount" in redrive else None
    if target and count:
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": queue_arn(resolver.name_of(target)),
                                                  "maxReceiveCount": count})
    return QueueSpec(logical_id, resolver.name_of(logical_id), attributes, target, count)
