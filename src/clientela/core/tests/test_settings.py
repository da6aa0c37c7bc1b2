"""Configuration comes from the environment; production refuses unsafe settings."""

import os
import subprocess
import sys

import pytest

CHECK = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.DATABASES['default']['ENGINE'])"
)


def settings_of(tmp_path, **env):
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL", "CLIENTELA_ENV"}
    }
    return subprocess.run(
        [sys.executable, "-c", CHECK],
        capture_output=True,
        text=True,
        check=False,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "clientela.config.settings",
            "CLIENTELA_DATA_DIR": str(tmp_path),
            **env,
        },
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "django-insecure-" + "a1b2c3d4e5" * 5}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "k" * 60, "DEBUG": "1"}, "DEBUG must be off"),
    ],
)
def test_production_refuses_insecure_settings(tmp_path, env, message):
    result = settings_of(tmp_path, CLIENTELA_ENV="production", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_starts_with_a_strong_key_and_postgres_url(tmp_path):
    result = settings_of(
        tmp_path,
        CLIENTELA_ENV="production",
        SECRET_KEY="p9Xw2LqR7vT4mZ8nB1cY6dK3fH5jS0gA" * 2,
        DATABASE_URL="postgres://u:p@db.internal:5432/crm",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.db.backends.postgresql"
    assert not (tmp_path / "secret_key").exists()


def test_local_mode_generates_a_private_secret_key_once(tmp_path):
    assert settings_of(tmp_path).returncode == 0
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50 and oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"
    settings_of(tmp_path)
    assert (tmp_path / "secret_key").read_text() == key
