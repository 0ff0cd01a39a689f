"""gunicorn's settings for the pages' server (compose's ``web``, ``make run``'s one server, the
proxied tests): ``gunicorn -c python:compliance_hub.gunicorn_conf``. Command-line flags still
set the bind address, workers and threads.

The access log names the path, never the query string or the referrer, which gunicorn's
default writes: a query can carry the webhook handshake's verify token, a reader's archive
search terms (words of clients' messages) or a reset link's parameters, and none of them belongs
in a log (the intake's granian logs the same way: ingestion/serve.py).
"""

access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
