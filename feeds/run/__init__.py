"""Running feeds: once (``feeds build``, ``feeds fetch``: fetch, then build), as the one-machine
daemon (APScheduler, the post watcher, the health port), or distributed (procrastinate workers
and schedulers), with their metrics. The only layer that knows both the fetch round and the
build."""
