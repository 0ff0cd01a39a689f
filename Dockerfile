# One image for web, worker, beat and migrate (docker-compose.yml picks the command).
FROM python:3.11-slim

# The code runs from the source tree in /app (templates/ and the static files sit beside it), which
# PYTHONPATH puts ahead of the installed copy of the packages. The dependencies come from
# requirements-production.lock (make lock): the versions and hashes CI tested, nothing resolved anew.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=compliance_hub.settings \
    DJANGO_ENV=production \
    PYTHONPATH=/app

RUN useradd --system --create-home --uid 10001 app

WORKDIR /app
COPY . .
RUN pip install --no-deps --require-hashes -r requirements-production.lock \
    && pip install --no-deps --no-build-isolation . \
    && pip check \
    && mkdir -p /data/media /data/models \
    && chown app:app /data/media /data/models

# Static files are collected into the image (served by WhiteNoise). Production settings demand
# secrets, so this build step gets throw-away values that never reach a running container.
RUN DJANGO_SECRET_KEY=collectstatic-only \
    FIELD_ENCRYPTION_KEYS=collectstatic-only \
    DATABASE_URL=postgres://build:build@127.0.0.1:5432/build \
    REDIS_URL=redis://127.0.0.1:6379/0 \
    python manage.py collectstatic --noinput

USER app
EXPOSE 8000
CMD ["gunicorn", "compliance_hub.wsgi", "-c", "python:compliance_hub.gunicorn_conf", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
