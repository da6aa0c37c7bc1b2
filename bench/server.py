"""Start and stop a real Clientela server (``clientela serve``) and run ``clientela`` commands for the bench.

Every process gets the same environment: a throwaway ``CLIENTELA_DATA_DIR`` and either the SQLite file in
it (the default) or the ``DATABASE_URL`` given with ``--database-url``. The server runs in its own session
and is stopped, with everything it started, when the ``serving()`` block exits, also on Ctrl-C or an error.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

HOST = "127.0.0.1"  # the only address the bench ever targets
REPO_DIR = Path(__file__).resolve().parent.parent
# Settings that would make a run depend on the shell it was started from.
_UNSET = {
    "DATABASE_URL",
    "REDIS_URL",
    "CLIENTELA_TASKS",
    "SECRET_KEY",
    "MEDIA_ROOT",
    "DJANGO_SETTINGS_MODULE",
}


class BenchError(RuntimeError):
    """The bench cannot go on: printed as one message, exit status 1."""


def bench_environment(data_dir: Path, database_url: str | None) -> dict[str, str]:
    """The environment of every process the bench starts."""
    env = {name: value for name, value in os.environ.items() if name not in _UNSET}
    env.update(CLIENTELA_DATA_DIR=str(data_dir), CLIENTELA_ENV="local", DEBUG="0", LOG_LEVEL="WARNING")
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def clientela_argv(*args: str) -> list[str]:
    """The ``clientela`` command of this virtualenv (what the ``clientela`` script runs)."""
    return [sys.executable, "-m", "clientela.cli", *args]


def run_command(
    argv: list[str], env: dict[str, str], *, timeout: float = 600, show_progress: bool = False
) -> str:
    """Run a command to completion and return its stdout; a failure raises ``BenchError`` with stderr.

    ``show_progress``: the command's stderr goes to the bench's own (long steps print their progress).
    """
    try:
        completed = subprocess.run(
            argv,
            env=env,
            cwd=REPO_DIR,
            stdout=subprocess.PIPE,
            stderr=None if show_progress else subprocess.PIPE,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"{' '.join(argv[2:])} did not finish within {timeout:.0f} s") from None
    if completed.returncode != 0:
        tail = "\n".join((completed.stderr or "(its stderr is above)").strip().splitlines()[-15:])
        raise BenchError(f"{' '.join(argv[2:])} exited with status {completed.returncode}:\n{tail}")
    return completed.stdout


def run_clientela(env: dict[str, str], *args: str) -> str:
    """``clientela ARGS...`` in the bench environment; returns what it printed."""
    return run_command(clientela_argv(*args), env)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ProcessMemory:
    """One process of the server's tree and its memory, in MiB."""

    role: str
    pid: int
    rss_mb: float
    pss_mb: float | None  # proportional set size: shared pages split between the processes using them


def _role(process: psutil.Process, root_pid: int) -> str:
    if process.pid == root_pid:
        return "supervisor (clientela serve)"
    try:
        cmdline = " ".join(process.cmdline())
        parent = process.parent()
        parent_cmdline = " ".join(parent.cmdline()) if parent else ""
    except psutil.Error:
        return "?"
    if "clientela.cli worker" in cmdline:
        return "task worker + scheduler" if "--with-scheduler" in cmdline else "task worker"
    if "clientela.cli scheduler" in cmdline:
        return "scheduler"
    if "granian" in parent_cmdline and parent and parent.pid != root_pid:
        return "web worker (granian)"
    if "granian" in cmdline:
        return "web main (granian)"
    return str(process.name())


@dataclass
class Server:
    """A running ``clientela serve`` started by ``serving()``."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def tree(self) -> list[psutil.Process]:
        """The supervisor and every process below it."""
        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def memory(self) -> list[ProcessMemory]:
        """Resident memory of each process of the tree, supervisor first."""
        rows = []
        for process in self.tree():
            try:
                info = process.memory_full_info()
                pss = getattr(info, "pss", None)
                rows.append(
                    ProcessMemory(
                        role=_role(process, self.process.pid),
                        pid=process.pid,
                        rss_mb=info.rss / 2**20,
                        pss_mb=pss / 2**20 if pss is not None else None,
                    )
                )
            except psutil.Error:
                continue
        return rows

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").strip().splitlines()[-lines:])
        except OSError:
            return ""

    def wait_healthy(self, timeout: float) -> None:
        """Return once GET /healthz answers 200; raise if the server exits or the time runs out."""
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url, timeout=2, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise BenchError(
                        f"the server exited with status {self.process.returncode}:\n{self.log_tail()}"
                    )
                try:
                    if client.get("/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise BenchError(f"the server did not answer /healthz within {timeout:.0f} s:\n{self.log_tail()}")

    def wait_for_processes(self, roles: set[str], timeout: float = 30) -> None:
        """Wait until the tree has a process of each role (the background processes start with the web)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if roles <= {_role(process, self.process.pid) for process in self.tree()}:
                return
            time.sleep(0.2)
        raise BenchError(f"the server did not start all of {sorted(roles)}:\n{self.log_tail()}")

    def stop(self, timeout: float = 15) -> None:
        """Ask the supervisor to stop (it stops its children), then kill whatever is left of the tree."""
        tree = self.tree()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        for process in tree:
            try:
                if process.is_running():
                    process.kill()
            except psutil.Error:
                continue
        psutil.wait_procs([p for p in tree if p.pid != self.process.pid], timeout=5)
        if self.process.poll() is None:
            self.process.wait(timeout=5)


@contextmanager
def serving(
    env: dict[str, str], log_path: Path, *, background: bool, workers: int = 1, startup_timeout: float = 60
) -> Iterator[Server]:
    """Run ``clientela serve`` on a free port for the block: web only, or web + a task worker running the
    scheduler."""
    port = free_port()
    argv = clientela_argv(
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--with-background" if background else "--web-only",
    )
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            argv,
            env=env,
            cwd=REPO_DIR,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the bench only; the bench stops the server itself
        )
    server = Server(process=process, port=port, log_path=log_path)
    try:
        server.wait_healthy(startup_timeout)
        yield server
    finally:
        server.stop()
