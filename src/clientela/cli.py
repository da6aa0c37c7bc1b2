"""The ``clientela`` command: run the processes and administer workspaces from a shell.

Every sub-command has ``--help``. Errors print one line to stderr and exit non-zero.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clientela.config.settings")


class CommandError(Exception):
    """A user error: printed as one line, exit status 1."""


def _setup() -> None:
    import django

    django.setup()


# --- processes ------------------------------------------------------------------------------------


# Requests one web worker serves at once: below the database pool of a process (DATABASE_POOL_SIZE, 10),
# so no request waits for a connection.
WEB_THREADS = 8


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the web server; in local mode (SQLite) also a task worker running the scheduler."""
    # Decided from the environment, without loading Django: this supervisor stays a small process.
    local = (os.environ.get("DATABASE_URL") or "sqlite").startswith("sqlite")
    with_background = args.with_background if args.with_background is not None else local
    web = [
        sys.executable,
        "-m",
        "granian",
        # WSGI: every view is synchronous, and ASGI's thread hand-off cost 4 ms per request (measured:
        # an empty request 6.6 ms under ASGI, 2.6 under WSGI; docs/architecture.md).
        "--interface",
        "wsgi",
        "--blocking-threads",
        str(WEB_THREADS),
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--workers",
        str(args.workers),
        "--log-level",
        "warning",
        "clientela.config.wsgi:application",
    ]
    commands = {"web": web}
    if with_background:
        commands["worker"] = [sys.executable, "-m", "clientela.cli", "worker", "--with-scheduler"]
    print(
        f"Clientela is serving on http://{args.host}:{args.port}/ ({', '.join(commands)}). Ctrl-C stops it.",
        flush=True,
    )
    return supervise(commands)


def supervise(commands: dict[str, list[str]]) -> int:
    """Start every command; when one exits or we are told to stop, stop them all."""
    children = {name: subprocess.Popen(argv) for name, argv in commands.items()}
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status = 0
    try:
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    print(
                        f"clientela: {name} exited with status {child.returncode}; stopping.", file=sys.stderr
                    )
                    status = child.returncode or 1
                    stopping = True
                    break
            time.sleep(0.2)
    finally:
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 10
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
    return status


def cmd_worker(args: argparse.Namespace) -> int:
    """Run a task worker for the configured backend (database or Redis/RQ)."""
    _setup()
    from django.conf import settings
    from django.core.management import call_command

    stop = threading.Event()
    if args.with_scheduler:  # local mode: one process less, the scheduler ticks in a thread
        from clientela.core.scheduler import autodiscover, run_forever

        autodiscover()
        threading.Thread(target=run_forever, kwargs={"stop": stop}, name="scheduler", daemon=True).start()
    try:
        if settings.TASKS_BACKEND == "rq":
            options = ["--job-class", "django_tasks_rq.Job", "--worker-class", "rq.worker.SimpleWorker"]
            if args.burst:
                options.append("--burst")
            call_command("rqworker", *options, "default")
        else:
            options = ["--no-reload", "--queue-name", "*", "--no-startup-delay", "--interval", "0.5"]
            if args.burst:
                options.append("--batch")
            call_command("db_worker", *options)
    finally:
        stop.set()
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    """Enqueue periodic due-work (housekeeping now; reminders, SLA timers and mailbox polls later)."""
    _setup()
    from clientela.core.scheduler import autodiscover, run_forever, tick

    autodiscover()

    if args.once:
        for name in tick():
            print(name)
        return 0
    run_forever(interval=args.interval)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """Create or upgrade the database schema."""
    _setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=args.verbosity)
    call_command("createcachetable", verbosity=0)
    _refresh_statistics()
    return 0


def _refresh_statistics() -> None:
    """SQLite's planner needs statistics to pick the composite indexes (the scheduler refreshes them)."""
    from clientela.core.jobs import refresh_statistics

    refresh_statistics()


# --- administration --------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    """Create (or reuse) the demo workspace and its admin, and print how to sign in."""
    _setup()
    from clientela.demo import demo_load

    result = demo_load(slug=args.workspace, people=args.people)
    _refresh_statistics()
    print(f"Workspace: {result.workspace.name} ({result.workspace.slug})")
    print(f"Sign in as: {result.email}")
    if result.password:
        print(f"Password:   {result.password}")
    return 0


def cmd_workspace_create(args: argparse.Namespace) -> int:
    """Create a workspace and its owner; prints the workspace slug."""
    _setup()
    import secrets

    from clientela.workspaces.models import User
    from clientela.workspaces.services import workspace_create

    password = args.admin_password
    generated = None
    if password is None and not User.objects.filter(email__iexact=args.admin_email.strip()).exists():
        password = generated = secrets.token_urlsafe(12)
    workspace, user = workspace_create(name=args.name, admin_email=args.admin_email, admin_password=password)
    print(workspace.slug)
    if generated:
        print(f"Generated password for {user.email}: {generated}", file=sys.stderr)
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    """Add a user (created if new) to a workspace with a role."""
    _setup()
    from clientela.workspaces.services import member_add

    workspace = _workspace(args.workspace)
    membership = member_add(workspace=workspace, email=args.email, role=args.role, password=args.password)
    print(f"{membership.user.email} is {membership.role} in {workspace.slug}")
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    """Create an API token for a member; prints the token once."""
    _setup()
    from clientela.workspaces.models import User
    from clientela.workspaces.services import api_token_create

    workspace = _workspace(args.workspace)
    user = User.objects.filter(email__iexact=args.email.strip()).first()
    if user is None:
        raise CommandError(f"no user with email {args.email}")
    _token, raw = api_token_create(workspace=workspace, user=user, name=args.name)
    print(raw)
    return 0


def _workspace(slug: str) -> Any:
    from clientela.workspaces.models import Workspace

    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        raise CommandError(f"no workspace with slug {slug!r}")
    return workspace


# --- parser ----------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clientela", description="Clientela, the self-hostable CRM.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, func: Callable[[argparse.Namespace], int], parent: Any = sub
    ) -> argparse.ArgumentParser:
        p = parent.add_parser(
            name, help=(func.__doc__ or "").strip().splitlines()[0], description=(func.__doc__ or "").strip()
        )
        p.set_defaults(func=func)
        return p

    p = add("serve", cmd_serve)
    p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_WORKERS", "1")),
        help="web worker processes (default 1)",
    )
    p.add_argument(
        "--with-background",
        dest="with_background",
        action="store_true",
        default=None,
        help="also run a task worker and the scheduler (default in local mode)",
    )
    p.add_argument(
        "--web-only",
        dest="with_background",
        action="store_false",
        help="run only the web server (server mode runs workers separately)",
    )

    p = add("worker", cmd_worker)
    p.add_argument("--burst", action="store_true", help="process what is queued, then exit")
    p.add_argument(
        "--with-scheduler",
        action="store_true",
        help="also run the scheduler in this process (local mode; run one scheduler in all)",
    )

    p = add("scheduler", cmd_scheduler)
    p.add_argument("--interval", type=float, default=5.0, help="seconds between checks (default 5)")
    p.add_argument("--once", action="store_true", help="enqueue what is due now, then exit")

    p = add("migrate", cmd_migrate)
    p.add_argument("-v", "--verbosity", type=int, default=1)

    p = add("demo", cmd_demo)
    p.add_argument("--workspace", default="demo", help="slug of the demo workspace (default: demo)")
    p.add_argument("--people", type=int, default=2000, help="how many demo customers (default 2000)")

    ws = sub.add_parser("workspace", help="manage workspaces").add_subparsers(dest="sub", required=True)
    p = add("create", cmd_workspace_create, ws)
    p.add_argument("--name", required=True)
    p.add_argument("--admin-email", required=True)
    p.add_argument(
        "--admin-password", help="password for a new admin user (generated and printed if omitted)"
    )

    users = sub.add_parser("user", help="manage users").add_subparsers(dest="sub", required=True)
    p = add("add", cmd_user_add, users)
    p.add_argument("--workspace", required=True, metavar="SLUG")
    p.add_argument("--email", required=True)
    p.add_argument(
        "--role", required=True, help="owner, admin, manager, sales, support, marketing or read_only"
    )
    p.add_argument("--password", help="password for a new user (otherwise they use 'forgot password')")

    tokens = sub.add_parser("token", help="manage API tokens").add_subparsers(dest="sub", required=True)
    p = add("create", cmd_token_create, tokens)
    p.add_argument("--workspace", required=True, metavar="SLUG")
    p.add_argument("--email", required=True)
    p.add_argument("--name", default="CLI")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CommandError as exc:
        print(f"clientela: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from clientela.core.errors import ApplicationError

        if isinstance(exc, ApplicationError):
            print(f"clientela: error: {exc.message}", file=sys.stderr)
            return 1
        from django.db import DatabaseError

        if isinstance(exc, DatabaseError):
            print(
                f"clientela: error: database: {exc}".splitlines()[0] + " (did you run 'clientela migrate'?)",
                file=sys.stderr,
            )
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
