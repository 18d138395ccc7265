"""DynamoDB condition failures are recognised by their code, whichever client's exception class raised them."""

import boto3
from botocore.exceptions import ClientError
from sgd.adapters.aws import is_condition_failure


def condition_failure_of_a_fresh_client() -> Exception:
    client = boto3.session.Session().client("dynamodb", region_name="us-east-1")
    error_class = client.exceptions.ConditionalCheckFailedException
    return error_class({"Error": {"Code": "ConditionalCheckFailedException", "Message": "no"}}, "PutItem")


def test_condition_failures_from_different_clients_are_recognised() -> None:
    first, second = condition_failure_of_a_fresh_client(), condition_failure_of_a_fresh_client()
    assert type(first) is not type(second)  # why `except client.exceptions.X` can miss: classes per factory
    assert is_condition_failure(first)
    assert is_condition_failure(second)


def test_other_errors_are_not_condition_failures() -> None:
    throttled = ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem")
    assert not is_condition_failure(throttled)
    assert not is_condition_failure(ValueError("ConditionalCheckFailedException"))
