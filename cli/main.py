"""`helpdesk`: the desk's one command line.

`up` runs the whole desk; `serve <service>` (`serve http` for the HTTP channels) and `worker` are the
processes it starts, and what a deployment runs one per container; the client commands of
:mod:`cli.client` (`ticket`, `workorder`, `callback`) and :mod:`cli.survey` (`survey`) talk to a
running desk through its endpoints file.

Every command ends in ``os._exit``: an interpreter that loaded temporalio can abort while finalising
(PyGILState_Release, exit 134), which would turn a clean stop into a crash.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import os
import signal
import sys
import traceback
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, NoReturn, TextIO

from desk.config import (
    HTTP_GATEWAY,
    NATS_CLUSTER_SETTING,
    REPLICAS_SETTING,
    SERVICES,
    Settings,
    load_settings,
    port_setting,
)
from desk.errors import DeskError, PortInUse
from desk.private_files import UMASK

log = logging.getLogger("helpdesk.cli")  # not __name__: under `python -m` that is "__main__"

Entry = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    from cli import (
        client,
        database,
        directory,
        escalations,
        events,
        keys,
        knowledge,
        ops,
        qa,
        quality_inspections,
        quality_report,
        reports,
        stats,
        stats_kpis,
        survey,
        tokens,
        trace,
    )

    parser = argparse.ArgumentParser(
        prog="helpdesk", description="An IT-operations and telecom service desk."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # Client commands first: `register` adds its common `--as` option to every command present then.
    client.register(commands)
    survey.register(commands)
    ops.register(commands)
    directory.register(commands)
    events.register(commands)
    escalations.register(commands)
    knowledge.register(commands)
    qa.register(commands)  # `qa sample|verify`
    quality_inspections.register(commands)  # `qa spot|inspect|scorecards`
    quality_report.register(commands)  # `qa report`
    reports.register(commands)  # `report generate|show|list`
    stats.register(commands)  # `stats rebuild` (makes the `stats` group)
    stats_kpis.register(commands)  # `stats kpis` (joins the `stats` group: after `stats`)
    tokens.register(commands)  # `token issue|revoke|list`
    client.add_as_option(commands)
    keys.register(commands)  # `keys rotate|list`: local files, no gRPC call, so no `--as`
    trace.register(commands)  # `trace TICKET_ID`: the span files, no gRPC call
    database.register(commands)  # `db roles`: SQL on the database, no gRPC call, so no `--as`
    up = commands.add_parser("up", help="run the whole desk, starting whatever is not configured elsewhere")
    up.add_argument(
        "--no-services",
        action="store_true",
        help="only the backing services, migrations, seed data and tokens (run services yourself)",
    )
    up.add_argument(
        "--replicas",
        type=int,
        metavar="N",
        help=f"processes of each service and of the HTTP gateway (default {REPLICAS_SETTING} or 1;"
        " docs/deployment.md#replicas)",
    )
    up.add_argument(
        "--nats-cluster",
        metavar="N",
        default="",
        help=f"run the embedded NATS as a cluster of N nodes: 1, 3 or 5 ({NATS_CLUSTER_SETTING}; 1)",
    )
    up.set_defaults(entry=_up)
    serve = commands.add_parser(
        "serve", help=f"run one service (its gRPC server), or `{HTTP_GATEWAY}`: the HTTP channels gateway"
    )
    serve.add_argument("service", choices=(*SERVICES, HTTP_GATEWAY))
    serve.set_defaults(entry=_serve)
    worker = commands.add_parser("worker", help="run the workflow worker")
    worker.set_defaults(entry=_worker)
    return parser


def main(argv: Sequence[str] | None = None) -> NoReturn:
    try:
        status = _dispatch(build_parser().parse_args(argv))
    except DeskError as error:
        print(f"helpdesk: {error}", file=sys.stderr)
        status = 1
    except SystemExit as leaving:  # what argparse-style code raises, with a message or a status
        status = _exit_status(leaving)
    except KeyboardInterrupt:
        status = 130
    except BrokenPipeError:  # the reader stopped early (`| head`): what it read was all it wanted
        status = 0
    except BaseException:  # the last edge before os._exit: whatever it was, show it and fail
        traceback.print_exc()
        status = 1
    with contextlib.suppress(BrokenPipeError):  # the reader may be gone (see above)
        sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _dispatch(args: argparse.Namespace) -> int:
    settings = load_settings(os.environ)
    entry: Entry | None = getattr(args, "entry", None)
    if entry is None:
        from cli.client import run_client_command

        return run_client_command(args, settings)
    return entry(args, settings)


def _exit_status(leaving: SystemExit) -> int:
    if leaving.code is None or isinstance(leaving.code, int):
        return leaving.code or 0
    print(leaving.code, file=sys.stderr)
    return 1


def _up(args: argparse.Namespace, settings: Settings) -> int:
    from deploy.up import up

    overrides = {}  # each option is its setting, read and checked as the setting is
    if args.replicas is not None:
        overrides[REPLICAS_SETTING] = str(args.replicas)
    if args.nats_cluster:
        overrides[NATS_CLUSTER_SETTING] = args.nats_cluster
    if overrides:
        settings = load_settings({**os.environ, **overrides})
    os.umask(UMASK)  # owner-only files under the data dir, the embedded servers' too (desk/private_files.py)
    # Every line: `up` says what it starts, stops and restarts, each line about another process.
    _configure_logging("%(asctime)s %(message)s", settings, "up", stream=sys.stdout, repeat_interval=None)
    asyncio.run(until_signalled(up(settings, with_services=not args.no_services)))
    print("The desk is stopped.", flush=True)
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    run: Callable[[Settings], Awaitable[None]] = importlib.import_module(f"services.{args.service}.main").run
    try:
        return _run_process(run, settings, args.service)
    except PortInUse as taken:  # its gRPC or HTTP port, unless it names another: say which setting moves it
        raise (taken if taken.setting else taken.of(args.service, port_setting(args.service))) from None


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from workflows.worker import run

    return _run_process(run, settings, "worker")


def _run_process(run: Callable[[Settings], Awaitable[None]], settings: Settings, name: str) -> int:
    from desk.process import tune_garbage_collection

    os.umask(UMASK)  # its span files are owner-only (desk/private_files.py)
    fmt = "%(asctime)s %(levelname)s %(name)s%(ids)s: %(message)s"  # ids: desk/log_format.py
    _configure_logging(fmt, settings, name, stream=sys.stderr, repeat_interval=settings.log_repeat_seconds)
    tune_garbage_collection()  # the service's modules are loaded by now

    async def composition_root() -> None:
        await run(settings)

    try:
        asyncio.run(until_signalled(composition_root()))
    finally:
        _flush_spans()
    return 0


async def until_signalled(main: Coroutine[Any, Any, None]) -> None:
    """Run `main` until SIGINT or SIGTERM, which cancel it once so it can shut down in order."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(main)
    received: list[signal.Signals] = []

    def on_signal(sig: signal.Signals) -> None:
        if received:  # a second Ctrl-C must not cut the orderly shutdown short and leave processes behind
            log.warning("%s: already stopping, please wait", sig.name)
            return
        received.append(sig)
        log.info("%s: stopping", sig.name)
        task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        await task
    except asyncio.CancelledError:
        if not received:
            raise


def _configure_logging(
    fmt: str, settings: Settings, process: str, *, stream: TextIO, repeat_interval: float | None
) -> None:
    from desk.process_logging import LogStyle, configure_logging

    style = LogStyle(process, settings.log_format, settings.log_level)
    configure_logging(fmt, stream=stream, repeat_interval=repeat_interval, style=style)


def _flush_spans() -> None:
    """os._exit skips the SDK's atexit hook, so finish exporting the spans buffered so far here."""
    from opentelemetry import trace

    shutdown = getattr(trace.get_tracer_provider(), "shutdown", None)  # the default proxy has none
    if callable(shutdown):
        shutdown()


if __name__ == "__main__":
    main()
