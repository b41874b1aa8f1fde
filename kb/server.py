"""Production serving: the app in N pre-forked gunicorn worker processes on one port.

Each worker opens the index lazily on its first request and follows generation switches on its
own (the store stats `CURRENT` on every request), so a rebuild or an imported artifact reaches
every worker without a restart.
"""

from __future__ import annotations

import os
from pathlib import Path

from gunicorn.app.base import BaseApplication


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class _Gunicorn(BaseApplication):
    """gunicorn's documented embedding: settings from a dict, the WSGI app already built."""

    def __init__(self, application, options: dict):
        self.application = application
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def serve(application, host: str, port: int, workers: int, threads: int) -> None:
    """Serve `application` until SIGTERM/SIGINT with `workers` processes of `threads` threads."""
    options = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        # the app is built once in the master; workers open their own index maps after the fork
        "preload_app": True,
        "proc_name": "kb",
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "timeout": 60,
        "graceful_timeout": 10,
        # gunicorn 25+ opens a control socket under $HOME; a server of ours writes nothing there
        "control_socket_disable": True,
        "worker_tmp_dir": "/dev/shm" if Path("/dev/shm").is_dir() else None,
    }
    _Gunicorn(application, {k: v for k, v in options.items() if v is not None or k == "accesslog"}).run()
