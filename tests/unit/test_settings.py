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
