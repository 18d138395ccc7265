import pytest
from sgd.settings import ConfigurationError, Settings, load_settings


def test_missing_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SGD_JOBS_TABLE")
    with pytest.raises(ConfigurationError, match="SGD_JOBS_TABLE"):
        load_settings()


def test_bad_qdrant_url_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QDRANT_URL", "qdrant.internal:6333")
    with pytest.raises(ConfigurationError, match=r"QDRANT_URL: .*http"):
        load_settings()


def test_settings_are_frozen() -> None:
    with pytest.raises(Exception, match="frozen"):
        load_settings().stage = "prod"  # type: ignore[misc]


def test_model_key_switches_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not Settings.from_environment().model_key_configured
    monkeypatch.setenv("OPENROUTER_API_KEY_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:k")
    assert Settings.from_environment().model_key_configured


def test_api_key_never_appears_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-secret-value")
    assert "sk-or-secret-value" not in repr(Settings.from_environment())


@pytest.mark.parametrize("url", [
    "http://localhost:@example.com/api/v1",  # user info: the key would go to example.com over plain http
    "https://user:pass@openrouter.ai/api/v1",
    "http://example.com/api/v1",
    "http://localhost.example.com/api/v1",
    "http://127.0.0.1.nip.io/api/v1",
    "ftp://127.0.0.1/api/v1",
    "https:///api/v1",
    "https://openrouter.ai/api/v1?next=http://evil",
    "http://127.0.0.1:notaport/api/v1",
])
def test_a_provider_url_that_is_not_what_it_seems_is_refused(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("OPENROUTER_BASE_URL", url)
    with pytest.raises(ConfigurationError, match="OPENROUTER_BASE_URL"):
        load_settings()


@pytest.mark.parametrize("url", ["https://openrouter.ai/api/v1/", "http://127.0.0.1:8080/api/v1",
                                 "http://localhost:9/api/v1", "http://[::1]:8080/api/v1"])
def test_https_or_a_literal_loopback_provider_url_is_accepted(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("OPENROUTER_BASE_URL", url)
    assert load_settings().openrouter_base_url == url.rstrip("/")


def test_a_plain_http_provider_is_never_allowed_on_prod(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SGD_STAGE", "prod")
    monkeypatch.setenv("OPENROUTER_BASE_URL", "http://127.0.0.1:8080/api/v1")
    with pytest.raises(ConfigurationError, match="https on stage prod"):
        load_settings()
