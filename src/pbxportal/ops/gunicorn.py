"""Gunicorn settings for the web process (``gunicorn -c python:pbxportal.ops.gunicorn``).

Everything comes from the environment, like the rest of the configuration: PORT, HOST,
WEB_CONCURRENCY (worker processes), WEB_THREADS, WEB_WORKER_CLASS, WEB_TIMEOUT, RUN_DIR.
"""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "1"))
# sync (one request at a time, no keep-alive) or gthread (keep-alive); gunicorn picks gthread
# itself when WEB_THREADS > 1.
worker_class = os.environ.get("WEB_WORKER_CLASS", "gthread" if threads > 1 else "sync")
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 30
# The request log is written by pbxportal.ops.logging.RequestIdMiddleware (with the request id).
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Gunicorn's control socket defaults to one path per user, which two process sets on one machine
# would share: keep it in RUN_DIR, or do without.
if os.environ.get("RUN_DIR"):
    control_socket = os.path.join(os.environ["RUN_DIR"], "gunicorn.ctl")
else:
    control_socket_disable = True


def child_exit(server: object, worker: object) -> None:
    """Drop a dead worker's live gauges from the multi-process aggregate (docs/deployment.md)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


def post_worker_init(worker: object) -> None:
    """Once the worker has loaded Django and the apps, move everything allocated so far out of
    the cyclic garbage collector's reach (``gc.freeze``): those objects live as long as the
    process, and a full collection no longer walks them, which otherwise stalls a request now
    and then for tens of milliseconds (docs/benchmarks.md)."""
    import gc

    gc.collect()
    gc.freeze()
