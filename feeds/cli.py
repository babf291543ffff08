"""Command line: ``feeds build`` and ``feeds check``.

The only module that configures logging and asks for the current time, and the one place
that maps errors to exit codes.
"""

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
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from feeds import __version__, config, jekyll, pipeline, runstate
from feeds.errors import ConfigError, FeedsError, LockedError
from feeds.lock import ProcessLock
from feeds.models import Severity
from feeds.store import Store
from feeds.storeparts import SourceState

log = logging.getLogger("feeds")


class Exit(enum.IntEnum):
    OK = 0  # everything read and written
    INPUT_ERRORS = 1  # some posts or feeds had errors; every other feed was written
    FATAL = 2  # nothing could be done (config unusable, bad usage, internal error)
    LOCKED = 75  # another feeds process is running (EX_TEMPFAIL: try again later)
    INTERRUPTED = 130


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-c",
        "--config",
        type=Path,
        default=Path(os.environ.get("FEEDS_CONFIG", "config.yaml")),
        help="config file (default: $FEEDS_CONFIG or ./config.yaml)",
    )
    common.add_argument(
        "--posts",
        type=Path,
        action="append",
        metavar="DIR",
        help="posts folder, instead of posts.dirs in the config (repeatable)",
    )
    common.add_argument(
        "--output",
        type=Path,
        metavar="DIR",
        help="output folder, instead of output.dir in the config",
    )
    common.add_argument(
        "--state",
        type=Path,
        metavar="DIR",
        help="state folder (the store), instead of state.dir in the config",
    )
    loud = common.add_mutually_exclusive_group()
    loud.add_argument(
        "-v", "--verbose", action="count", default=0, help="print a summary line (-vv: debug log)"
    )
    loud.add_argument(
        "-q", "--quiet", action="store_true", help="print errors only (no warnings, no progress)"
    )
    common.add_argument(
        "--traceback", action="store_true", help="print the full traceback of a fatal error"
    )

    p = argparse.ArgumentParser(prog="feeds", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"feeds {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build = sub.add_parser(
        "build",
        parents=[common],
        help="fetch due sources, write every feed",
        description="Fetch the external sources that are due, then write "
        "one RSS and one Atom feed per category, and one of "
        "everything. Silent on success unless -v.",
    )
    build.add_argument(
        "--no-fetch", action="store_true", help="build from the posts and the stored entries only"
    )
    build.add_argument(
        "--full",
        action="store_true",
        help="ignore the build cache: read every post and write every feed",
    )
    fetch = sub.add_parser(
        "fetch",
        parents=[common],
        help="fetch due sources into the store",
        description="Fetch the external sources that are due and store "
        "their entries; write no feed.",
    )
    fetch.add_argument("--all", action="store_true", help="fetch every enabled source, due or not")
    status = sub.add_parser(
        "status",
        parents=[common],
        help="show each source's health",
        description="Each source's last success, error count, stored entries and next attempt.",
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")
    run = sub.add_parser(
        "run",
        parents=[common],
        help="run as a daemon (build and fetch on a schedule)",
        description="Build and fetch on the schedule in the config, in the "
        "site's timezone, until SIGTERM/SIGINT; SIGHUP reloads "
        "the config.",
    )
    run.add_argument(
        "--health-port",
        type=int,
        metavar="PORT",
        help="serve GET /health on 127.0.0.1:PORT (200 healthy, 503 not)",
    )
    run.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="one line per event: key=value words (text) or JSON objects",
    )
    serve = sub.add_parser(
        "serve",
        parents=[common],
        help="serve the output folder over HTTP",
        description="Serve the output folder at the path of output.url, "
        "with feed Content-Types, ETag/304 and gzip. For "
        "previews and small sites; nginx for production.",
    )
    serve.add_argument(
        "--bind",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="address to listen on (default: 127.0.0.1)",
    )
    serve.add_argument("--port", type=int, default=8080, help="port (default: 8080)")
    init = sub.add_parser(
        "init",
        help="write a starter config.yaml and folders",
        description="Create DIR with a starter config.yaml, _posts/ (one "
        "example post), output/ and state/.",
    )
    init.add_argument(
        "dir", type=Path, metavar="DIR", nargs="?", help="where config.yaml goes (default: .)"
    )
    init.add_argument(
        "--jekyll",
        type=Path,
        metavar="SITE",
        help="a Jekyll site's folder: point the config at its _config.yml "
        "(url, timezone, permalink, defaults, authors) instead of a starter site",
    )
    sub.add_parser(
        "check",
        parents=[common],
        help="check the config and every post; write nothing",
        description="Validate the config and every post; report problems; write nothing.",
    )
    return p


def main(
    argv: Sequence[str] | None = None, *, stderr: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    err = stderr or sys.stderr
    out = stdout or sys.stdout
    args = _parser().parse_args(argv)
    if args.command == "init":
        if args.jekyll is not None:
            return int(_init_jekyll(args.dir or Path(), args.jekyll, out, err))
        if args.dir is None:
            print("feeds init: DIR is required (or --jekyll SITE)", file=err)
            return int(Exit.FATAL)
        return int(_init(args.dir, out, err))
    if args.command == "run":
        _configure_daemon_logging(args.verbose, args.quiet, args.log_format, err)
    else:
        _configure_logging(args.verbose, args.quiet, err)
    try:
        return int(_run(args, out, err))
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
    for name in ("feeds", "apscheduler"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
    logging.getLogger("feeds").setLevel(level)
    # APScheduler says "Running job …" at INFO for every run: only its warnings matter here,
    # less the one it repeats every tick while a long run is still going (by design here)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.scheduler").addFilter(
        lambda r: "maximum number of running instances reached" not in r.getMessage()
    )


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> Exit:
    started = time.monotonic()
    overrides = {"posts": args.posts, "output": args.output, "state": args.state}
    cfg = config.load(args.config).with_overrides(**overrides)
    now = _now(cfg)
    if args.command == "status":
        return _status(cfg, now, args.json, out)
    if args.command == "run":
        from feeds import scheduler  # APScheduler loads only for the commands that use it

        daemon = scheduler.Daemon(
            cfg, scheduler.reloader(args.config, overrides), health_port=args.health_port
        )
        return Exit(daemon.run())
    if args.command == "serve":
        return _serve(cfg, args.bind, args.port, out)
    if args.command == "fetch":
        with ProcessLock(cfg.store.state_dir, "fetch"):
            report = pipeline.fetch(cfg, now, force=args.all)
    elif args.command == "build":
        progress = _ProgressBar(err) if err.isatty() and not args.quiet else None
        with ProcessLock(cfg.store.state_dir, "build"):
            report = pipeline.run_once(
                cfg, now, progress=progress, fetch_sources=not args.no_fetch, full=args.full
            )
            runstate.record_build(cfg.store.state_dir, report, now, _now(cfg))
        if progress:
            progress.close()
    else:
        report = pipeline.run_once(cfg, now, write=False)

    for problem in report.problems.items:
        if problem.severity is Severity.ERROR or not args.quiet:
            print(str(problem), file=err)
    errors = len(report.problems.errors)
    warnings = len(report.problems.items) - errors
    seconds = time.monotonic() - started
    if args.command == "check":
        print(
            f"{args.config}: {report.posts_found} posts, {report.feeds_planned} feeds "
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
        print(
            f"schedule.build {cfg.schedule.build!r} ({cfg.site.timezone}): next {times}", file=out
        )
    elif args.command == "fetch" and args.verbose:
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
    elif args.verbose:
        print(
            f"feeds: {report.feeds_planned} feeds from {report.posts_found} posts and "
            f"{report.aggregated} aggregated entries ({len(report.sources)} sources fetched): "
            f"{len(report.files_written)} files written, {len(report.files_unchanged)} "
            f"unchanged, {errors} errors, {warnings} warnings in {seconds:.2f} s "
            f"→ {cfg.output_dir}",
            file=err,
        )
    return Exit.OK if report.ok else Exit.INPUT_ERRORS


def _now(cfg: config.Config) -> dt.datetime:
    """The current time in the site zone. ``FEEDS_FAKE_NOW`` (an ISO 8601 time with offset)
    stands in for the clock: a test hook for clock jumps, unset in normal use."""
    fake = os.environ.get("FEEDS_FAKE_NOW")
    if fake:
        when = dt.datetime.fromisoformat(fake)
        if when.tzinfo is None:
            raise FeedsError("FEEDS_FAKE_NOW needs a UTC offset, e.g. 2022-06-09T12:00:00+08:00")
        return when.astimezone(cfg.site.tz)
    return dt.datetime.now(cfg.site.tz)


def _status(cfg: config.Config, now: dt.datetime, as_json: bool, out: TextIO) -> Exit:
    """Each configured source's health, from the store."""
    known: dict[str, SourceState] = {}
    counts: dict[str, int] = {}
    has_store = cfg.store.path.is_file()  # status only reads: it never makes the store
    if has_store:
        with Store(cfg.store.path, timeout=cfg.store.lock_timeout, read_only=True) as store:
            known, counts = store.sources.states(), store.entries.counts()
    rows = []
    for s in cfg.sources:
        st = known.get(s.id)
        fresh = st is not None and st.url == s.url
        rows.append(
            {
                "id": s.id,
                "url": s.url,
                "enabled": s.enabled,
                "state": (
                    "disabled"
                    if not s.enabled
                    else "new"
                    if not fresh or st is None
                    else "gone"
                    if st.gone
                    else "failing"
                    if st.consecutive_errors
                    else "ok"
                ),
                "last_success": _iso(st.last_success if fresh and st else None, cfg),
                "errors": st.consecutive_errors if fresh and st else 0,
                "entries": counts.get(s.id, 0),
                "next_attempt": _iso(st.next_attempt if fresh and st else None, cfg),
                "last_error": st.last_error if fresh and st else None,
            }
        )
    state_dir = cfg.store.state_dir
    daemon = runstate.load(state_dir, runstate.DAEMON_FILE)
    if daemon and not _alive(daemon.get("pid")):
        daemon["running"] = False
    build = runstate.load(state_dir, runstate.BUILD_FILE)
    feeds = []
    for label, info in sorted((build or {}).get("feeds", {}).items()):
        newest = dt.datetime.fromisoformat(info["newest"])
        feeds.append(
            {
                "feed": label,
                "items": info["items"],
                "newest": info["newest"],
                "age_hours": round((now - newest).total_seconds() / 3600, 1),
            }
        )
    if as_json:
        json.dump(
            {
                "now": now.isoformat(),
                "daemon": daemon,
                "last_build": {k: v for k, v in (build or {}).items() if k != "feeds"} or None,
                "feeds": feeds,
                "sources": rows,
                "store": str(cfg.store.path) if has_store else None,
            },
            out,
            ensure_ascii=False,
            indent=1,
        )
        out.write("\n")
        return Exit.OK
    if daemon:
        out.write(
            f"daemon: pid {daemon.get('pid')} "
            f"{'running' if daemon.get('running') else 'not running'}, started "
            f"{daemon.get('started')}; next build {daemon.get('next_build') or '-'}, "
            f"next fetch {daemon.get('next_fetch') or '-'}\n"
        )
    else:
        out.write("daemon: not started here (no daemon.json)\n")
    if build:
        out.write(
            f"last build: {build.get('finished')} "
            f"({'ok' if build.get('ok') else 'with errors'}; "
            f"{build.get('files_written')} files written, {build.get('errors')} errors)\n"
        )
        for f in feeds:
            out.write(
                f"  {f['feed']}: {f['items']} items, newest {f['newest']} "
                f"({f['age_hours']} h ago)\n"
            )
    else:
        out.write("last build: none recorded\n")
    if not has_store:
        out.write(f"store: none yet ({cfg.store.path} is made by the first fetch or build)\n")
    head = ("SOURCE", "STATE", "LAST SUCCESS", "ERRORS", "ENTRIES", "NEXT ATTEMPT")
    table = [head] + [
        (
            r["id"],
            r["state"],
            r["last_success"] or "never",
            str(r["errors"]),
            str(r["entries"]),
            r["next_attempt"] or "now",
        )
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
    for row in table:
        out.write(
            "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n"
        )
    for r in rows:
        if r["last_error"]:
            out.write(f"{r['id']}: last error: {r['last_error']}\n")
    if not rows:
        out.write("no sources configured\n")
    return Exit.OK


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


def _alive(pid: object) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


STARTER_CONFIG = """\
# feeds configuration: every key is documented in the README.
site:
  title: 我的新闻站
  url: https://news.example.com
  description: 新闻站的订阅源
  language: zh-CN
  timezone: Asia/Shanghai

posts:
  dirs: [_posts]

output:
  dir: output
  url: https://news.example.com/feeds/

state:
  dir: state

schedule:
  build: 5m            # an interval, or a cron expression such as "*/5 * * * *"
  fetch_every: 30s

sources: []
# sources:
#   - id: example
#     url: https://publisher.example/rss.xml
#     categories: [news]
"""

STARTER_POST = """\
---
layout: post
title: "欢迎使用 feeds"
date: {date} +0800
categories: news
tags: [示例]
---
<p>这是一篇示例文章。把 Jekyll 的文章放进 _posts/，运行 feeds build 即可生成订阅源。</p>
"""


def _init(folder: Path, out: TextIO, err: TextIO) -> Exit:
    target = folder / "config.yaml"
    if target.exists():
        print(f"feeds: {target} already exists; not overwriting it", file=err)
        return Exit.FATAL
    try:
        for sub in ("_posts", "output", "state"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        target.write_text(STARTER_CONFIG, encoding="utf-8")
        today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8)))
        post = folder / "_posts" / f"{today:%Y-%m-%d}-welcome.md"
        if not post.exists():
            post.write_text(
                STARTER_POST.format(date=f"{today:%Y-%m-%d} 00:00:00"), encoding="utf-8"
            )
    except OSError as e:
        print(f"feeds: cannot create {folder}: {e.strerror or e}", file=err)
        return Exit.FATAL
    print(
        f"wrote {target}, {folder / '_posts'}/, {folder / 'output'}/ and {folder / 'state'}/"
        f"; edit site.url, then run: feeds build -c {target}",
        file=out,
    )
    return Exit.OK


def _init_jekyll(folder: Path, site_dir: Path, out: TextIO, err: TextIO) -> Exit:
    """``feeds init --jekyll SITE``: a config that reads the site's own _config.yml."""
    target = folder / "config.yaml"
    if target.exists():
        print(f"feeds: {target} already exists; not overwriting it", file=err)
        return Exit.FATAL
    try:
        site = jekyll.load_site(site_dir / "_config.yml")
        text = jekyll.starter_config(site, folder)
    except ConfigError as e:
        print(f"feeds: config error: {e}", file=err)
        return Exit.FATAL
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as e:
        print(f"feeds: cannot write {target}: {e.strerror or e}", file=err)
        return Exit.FATAL
    print(f"wrote {target}; check site.title, then run: feeds build -c {target}", file=out)
    return Exit.OK


def _iso(value: dt.datetime | None, cfg: config.Config) -> str | None:
    if value is None:
        return None
    return value.astimezone(cfg.site.tz).strftime("%Y-%m-%d %H:%M:%S%z")


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
