"""Shared fixtures for every app (the environment itself is set by clientela.core.testing.environment)."""

pytest_plugins = ["clientela.core.testing.fixtures"]
