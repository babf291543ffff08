"""The commands. The only module that configures logging, the one that makes the process's
``Runtime`` (the clock, the environment, the tests' fault hooks) and passes it down, and the
one place that maps errors to exit codes. ``main`` runs in-process as well (the tests do, with
an environment of their own)."""

from __future__ import annotations

import argparse
import datetime as dt
import enum
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from feeds.cli import args as cli_args, db as cli_db
from feeds.config import config
from feeds.errors import ConfigError, FeedsError, LockedError
from feeds.generate import runstate
from feeds.generate.report import Report
from feeds.lock import ProcessLock
from feeds.models import Severity
from feeds.run import once
from feeds.runtime import Runtime

log = logging.getLogger("feeds")


class Exit(enum.IntEnum):
    OK = 0  # everything read and written
    INPUT_ERRORS = 1  # some posts or feeds had errors; every other feed was written
    FATAL = 2  # nothing could be done (config unusable, bad usage, internal error)
    LOCKED = 75  # another feeds process is running (EX_TEMPFAIL: try again later)
    INTERRUPTED = 130


def main(
    argv: Sequence[str] | None = None,
    *,
    stderr: TextIO | None = None,
    stdout: TextIO | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """``feeds`` with ``argv`` in the environment ``env`` (default: the process's own)."""
    err = stderr or sys.stderr
    out = stdout or sys.stdout
    environ = os.environ if env is None else env
    args = cli_args.parser(__doc__.splitlines()[0], environ).parse_args(argv)
    try:
        runtime = Runtime.from_env(environ)
    except FeedsError as e:
        print(f"feeds: {type(e).__name__}: {e}", file=err)
        return int(Exit.FATAL)
    if args.command == "init":
        return int(_init(args, runtime, out, err))
    if args.command in ("run", "worker"):
        _configure_daemon_logging(args.verbose, args.quiet, args.log_format, err)
    else:
        _configure_logging(args.verbose, args.quiet, err)
    try:
        code = int(_run(args, runtime, out, err))
        out.flush()  # here, so that a reader gone early (`| head`) is caught below
        return code
    except BrokenPipeError:
        _stdout_gone(out)
        return 141  # 128 + SIGPIPE: what a shell reports for a producer whose reader left
    except LockedError as e:
        print(f"feeds: {e}", file=err)
        return int(Exit.LOCKED)
    except ConfigError as e:
        print(f"feeds: config error: {e}", file=err)
        return int(Exit.FATAL)
    except FeedsError as e:
        print(f"feeds: {type(e).__name__}: {e}", file=err)
        if args.traceback:
            traceback.print_exc(file=err)
        return int(Exit.FATAL)
    except KeyboardInterrupt:
        print("feeds: interrupted", file=err)
        return int(Exit.INTERRUPTED)
    except Exception as e:
        print(
            f"feeds: internal error: {type(e).__name__}: {e} "
            f"(please report it; --traceback shows where)",
            file=err,
        )
        if args.traceback:
            traceback.print_exc(file=err)
        return int(Exit.FATAL)


def _init(args: argparse.Namespace, runtime: Runtime, out: TextIO, err: TextIO) -> Exit:
    from feeds.cli import init  # each command loads what only it uses

    if args.jekyll is not None:
        done = init.from_jekyll(args.dir or Path(), args.jekyll, out, err)
    elif args.dir is None:
        print("feeds init: DIR is required (or --jekyll SITE)", file=err)
        done = False
    else:
        done = init.starter(args.dir, runtime, out, err)
    return Exit.OK if done else Exit.FATAL


def _configure_logging(verbose: int, quiet: bool, err: TextIO) -> None:
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("feeds: %(levelname)s: %(name)s: %(message)s"))
    root = logging.getLogger("feeds")
    root.handlers[:] = [handler]
    root.propagate = False
    root.setLevel(logging.DEBUG if verbose >= 2 else logging.ERROR if quiet else logging.WARNING)


class _KeyValueFormatter(logging.Formatter):
    """``time=… level=… logger=… <message>``: messages carry their own key=value words."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="seconds")
        line = (
            f"time={stamp} level={record.levelname.lower()} logger={record.name} "
            f"{record.getMessage()}"
        )
        if record.exc_info:
            line += " traceback=" + json.dumps(self.formatException(record.exc_info))
        return line


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="seconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["traceback"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def _configure_daemon_logging(verbose: int, quiet: bool, fmt: str, err: TextIO) -> None:
    handler = logging.StreamHandler(err)
    handler.setFormatter(_JsonFormatter() if fmt == "json" else _KeyValueFormatter())
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    for name in ("feeds", "apscheduler", "procrastinate", "psycopg"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
    logging.getLogger("feeds").setLevel(level)
    # APScheduler says "Running job …" at INFO for every run: only its warnings matter here,
    # less the one it repeats every tick while a long run is still going (by design here)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("procrastinate").setLevel(logging.WARNING)  # a line per job otherwise
    logging.getLogger("apscheduler.scheduler").addFilter(
        lambda r: "maximum number of running instances reached" not in r.getMessage()
    )


def _run(args: argparse.Namespace, runtime: Runtime, out: TextIO, err: TextIO) -> Exit:
    started = time.monotonic()
    overrides = {"posts": args.posts, "output": args.output, "state": args.state}
    cfg = config.load(args.config).with_overrides(**overrides)
    now = runtime.now(cfg.site.tz)
    if args.command == "status":
        from feeds.cli import status as cli_status

        cli_status.status(cfg, now, args.json, out)
        return Exit.OK
    if args.command == "db":
        return Exit(cli_db.run(args, cfg, now, out))
    if args.command == "worker" or (args.command == "run" and args.distributed):
        return _distributed(args, cfg, err)
    if args.command == "run":
        from feeds.run import scheduler  # APScheduler loads only for the commands that use it

        daemon = scheduler.Daemon(
            cfg,
            scheduler.reloader(args.config, overrides),
            health_port=args.health_port,
            metrics_port=args.metrics_port,
            runtime=runtime,
        )
        return Exit(daemon.run())
    if args.command == "serve":
        return _serve(cfg, args.bind, args.port, out)
    if args.command == "fetch":
        with ProcessLock(cfg.store.state_dir, "fetch"):
            report = once.fetch(cfg, now, force=args.all)
    elif args.command == "build":
        progress = _ProgressBar(err) if err.isatty() and not args.quiet else None
        with ProcessLock(cfg.store.state_dir, "build"):
            report = once.fetch_and_build(
                cfg,
                now,
                progress=progress,
                fetch_sources=not args.no_fetch,
                full=args.full,
                accept_shrink=args.accept_shrink,
                runtime=runtime,
            )
            finished = runtime.now(cfg.site.tz)
            runstate.record_build(
                cfg.store.state_dir, report, now, finished, before_rename=runtime.before_rename
            )
        if progress:
            progress.close()
    else:
        from feeds.generate import pipeline

        report = pipeline.run_once(cfg, now, write=False)

    _print_report(args, cfg, now, report, time.monotonic() - started, out, err)
    return Exit.OK if report.ok else Exit.INPUT_ERRORS


def _distributed(args: argparse.Namespace, cfg: config.Config, err: TextIO) -> Exit:
    """``feeds worker`` and ``feeds run --distributed`` (see ``feeds.run.queue``)."""
    if args.command == "run" and args.health_port is not None:
        print("feeds: --health-port is the single-machine daemon's", file=err)
        return Exit.FATAL
    from feeds.run import queue, queuerun  # procrastinate loads only for these commands

    overrides = {"posts": args.posts, "output": args.output, "state": args.state}
    supervisor = queuerun.Supervisor(
        cfg,
        lambda: config.load(args.config).with_overrides(**overrides),
        scheduler=args.command == "run",
    )
    if args.metrics_port is not None:  # a worker's fetches, a scheduler's builds
        from feeds.run import metrics

        if args.command == "run":
            metrics.watch_sources(lambda: supervisor.cfg)  # the config in force
        metrics.watch_queue(queue.database(cfg))  # the job queue, read at each scrape
        metrics.start_metrics_server(args.metrics_port)
    return Exit(supervisor.run())


def _print_report(
    args: argparse.Namespace,
    cfg: config.Config,
    now: dt.datetime,
    report: Report,
    seconds: float,
    out: TextIO,
    err: TextIO,
) -> None:
    """The problems on stderr, then the command's summary (``check`` always, others with -v)."""
    for problem in report.problems.items:
        if problem.severity is Severity.ERROR or not args.quiet:
            print(str(problem), file=err)
    errors = len(report.problems.errors)
    warnings = len(report.problems.items) - errors
    if args.command == "check":
        _print_check(args.config, cfg, now, report, errors, warnings, out)
    elif args.command == "fetch" and args.verbose:
        _print_fetch(report, seconds, err)
    elif args.verbose:
        print(
            f"feeds: {report.feeds_planned} feeds from {report.posts_found} posts and "
            f"{report.aggregated} aggregated entries ({len(report.sources)} sources fetched"
            f"{f'; {report.merged} duplicates merged' if report.merged else ''}): "
            f"{len(report.files_written)} files written, {len(report.files_unchanged)} "
            f"unchanged, {f'{len(report.files_removed)} removed, ' if report.files_removed else ''}"
            f"{errors} errors, {warnings} warnings in {seconds:.2f} s "
            f"→ {cfg.output_s3.where() if cfg.output_s3 else cfg.output_dir}",
            file=err,
        )


def _print_check(
    path: Path,
    cfg: config.Config,
    now: dt.datetime,
    report: Report,
    errors: int,
    warnings: int,
    out: TextIO,
) -> None:
    print(
        f"{path}: {report.posts_found} posts, {report.feeds_planned} feeds "
        f"({' + '.join(cfg.feeds.formats)} each), {len(cfg.sources)} sources; "
        f"{errors} errors, {warnings} warnings",
        file=out,
    )
    from feeds import cron

    s = cfg.schedule
    times = ", ".join(
        t.strftime("%Y-%m-%d %H:%M:%S%z")
        for t in cron.next_runs(s.build, s.build_seconds, cfg.site.tz, now, 3)
    )
    print(f"schedule.build {cfg.schedule.build!r} ({cfg.site.timezone}): next {times}", file=out)


def _print_fetch(report: Report, seconds: float, err: TextIO) -> None:
    counts = {
        k: sum(1 for o in report.sources if o.status == k)
        for k in ("ok", "not-modified", "error", "gone")
    }
    print(
        f"feeds: fetched {len(report.sources)} sources: {counts['ok']} ok, "
        f"{counts['not-modified']} not modified, {counts['error']} failed, "
        f"{counts['gone']} gone; {sum(o.new for o in report.sources)} new entries "
        f"in {seconds:.2f} s",
        file=err,
    )


def _stdout_gone(out: TextIO) -> None:
    """The reader of stdout has gone: point the descriptor at /dev/null so that Python's own
    flush at exit does not print a BrokenPipeError of its own."""
    try:
        fd = out.fileno()
    except (OSError, ValueError):
        return  # not a real file (tests pass a StringIO)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _serve(cfg: config.Config, bind: str, port: int, out: TextIO) -> Exit:
    from urllib.parse import urlsplit

    from feeds import serve

    prefix = urlsplit(cfg.output_url).path or "/"
    server = serve.make_server(cfg.output_dir, bind, port, prefix)
    host, real_port = str(server.server_address[0]), server.server_address[1]
    print(
        f"serving {cfg.output_dir} at http://{host}:{real_port}{prefix} (Ctrl-C stops)",
        file=out,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return Exit.OK


class _ProgressBar:
    """A one-line progress bar on a terminal, for long builds; nothing under cron."""

    def __init__(self, stream: TextIO, min_total: int = 500) -> None:
        self.stream = stream
        self.min_total = min_total
        self.shown = False
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if total < self.min_total:
            return
        now = time.monotonic()
        if done != total and now - self.last < 0.1:
            return
        self.last = now
        width = 30
        filled = width * done // total
        self.stream.write(
            f"\rreading posts [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        )
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
