"""Test-wide setup: a private data directory, and the real services the suite talks to."""

import os
import tempfile

# Before Django reads its settings: keep test files out of var/, and let Playwright's event loop
# coexist with Django's sync ORM.
os.environ["CLIENTELA_DATA_DIR"] = tempfile.mkdtemp(prefix="clientela-test-")
os.environ.setdefault("CLIENTELA_ENV", "test")
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytest_plugins = ["clientela.core.testing.fixtures"]
