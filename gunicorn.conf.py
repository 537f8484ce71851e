"""gunicorn's settings for Whistle's web process, chosen on purpose (README, "Web workers").

gunicorn reads this file from the directory it starts in; the Procfile names it anyway. Values
given on the command line (the Procfile's --bind and --workers, the benchmarks' own) win.

- worker_class "gthread", threads 4: a worker serves four requests at once on threads. With
  the default sync worker one request holds the whole process, so four slow requests (a phone
  on a weak connection sending 15 MB of photos, a large export) fill two workers' capacity
  twice over; with threads the same processes keep answering the others. Whistle's requests
  are short database work: no request decodes an image any more (cases.uploads hands that
  to a Celery worker), so the GIL is not held for seconds at a time.
- timeout 30: a worker that stops answering gunicorn's heartbeat for 30 s is killed and
  replaced. A killed request leaves no file behind (cases.uploads deletes what it stored on
  SystemExit, and the hourly orphan sweep whatever a SIGKILL left). Long work belongs in
  Celery, never in a request, so 30 s is generous for every page and API call.
- graceful_timeout 30: a restart lets requests in flight finish for as long as a request may
  take at all.
- max_requests 2000 (+ jitter): workers are replaced now and then, so that memory one large
  request grew (a big export) is given back; the jitter keeps them from restarting together.
- limit_request_*: gunicorn's defaults, written down: headers stay small; bodies are bounded by
  Django (DATA_UPLOAD_MAX_MEMORY_SIZE) and the upload checks (WHISTLE_MAX_*_BYTES).

Each thread keeps its own database connection: plan workers x threads connections per machine
(PostgreSQL's max_connections, or a pooler in front).
"""

wsgi_app = "whistle.wsgi"
workers = 2
worker_class = "gthread"
threads = 4
timeout = 30
graceful_timeout = 30
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
