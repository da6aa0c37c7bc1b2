"""Loaded by pytest with ``-p`` before pytest-django reads the settings: the test environment.

A private data directory keeps test files out of ``var/``; ``CLIENTELA_ENV=test`` selects a fast password
hasher; tasks run immediately; Playwright's event loop may coexist with Django's sync ORM.
"""

import os
import tempfile

os.environ["CLIENTELA_DATA_DIR"] = tempfile.mkdtemp(prefix="clientela-test-")
os.environ["CLIENTELA_ENV"] = "test"
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
# Tasks run in-process unless a test starts a real worker (see core/tests/test_tasks.py).
os.environ.setdefault("CLIENTELA_TASKS", "immediate")
