"""gunicorn's settings for the platform: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`, from the project root.

Each value can be changed by an environment variable (listed in the README's configuration table); a command-line
option (`-w 8`, `-b 0.0.0.0:8000`) wins over both.
"""

import multiprocessing
import os

# Where the reverse proxy reaches the application (a Unix socket works too: unix:/run/feedback/gunicorn.sock).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Processes: twice the processor cores plus one, at most 12 (each holds its database connections), unless told.
workers = int(os.environ.get("GUNICORN_WORKERS") or min(2 * multiprocessing.cpu_count() + 1, 12))
# Threads per process (gthread when above 1): a request waiting on the database lets another one run.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"

# A request taking longer than this is stopped (its worker restarted); the slowest pages (a report's PDF) take
# a few seconds.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On a restart or a stop, the time given to the requests under way to finish.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Connections kept open with the proxy between two requests (the proxy's own keepalive must be longer).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))

# A worker is replaced after so many requests (with some jitter), bounding what a slow leak could take.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "500"))

# The application writes one line per request itself (request id, route, status, duration, real client): no
# access log here. Errors and gunicorn's own messages go to the standard error (systemd's journal).
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# The proxy's X-Forwarded-* headers are read by the application (Werkzeug's ProxyFix, FEEDBACK_PROXY_HOPS), not by
# gunicorn: gunicorn is told to leave them alone and trust none of its own way.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}

# Each worker loads the application itself (no preloading in the master): `systemctl reload` (HUP) then starts
# workers on the new code and lets the old ones finish their requests, an upgrade without a dropped request. A
# mistake in the settings (production's refusals) stops the start with its message ("Worker failed to boot").
preload_app = False
