# Production image: gunicorn serving governance.wsgi. The same image runs the Celery worker and beat
# (see docker-compose.yml). Build: docker compose build   (or: docker build -t grid-governance .)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The TrueType CJK font every PDF embeds (governance/pdf_fonts.py).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-zenhei \
    && rm -rf /var/lib/apt/lists/*

COPY requirements.txt ./
RUN pip install -r requirements.txt

RUN groupadd --system app && useradd --system --gid app --no-create-home --home-dir /app app

# The application only (no .venv, database, git history or tests). Add new top-level apps here.
COPY manage.py ./
COPY governance ./governance
COPY grids ./grids
COPY disputes ./disputes
COPY assessment ./assessment
COPY templates ./templates
COPY static ./static
COPY locale ./locale
# The import page serves the file format description to its users.
COPY docs/import-format.md ./docs/import-format.md

# Static files are collected at build time with the production storage (hashed names + manifest that
# WhiteNoise serves). The key and host below exist only for this build step; the real ones come from .env.
RUN DJANGO_ENV=production \
    DJANGO_SECRET_KEY=build-time-dummy-key-used-only-for-collectstatic \
    DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput

RUN mkdir -p /data/media /data/audit && chown app:app /data/media /data/audit

ENV DJANGO_ENV=production \
    DJANGO_MEDIA_ROOT=/data/media \
    WEB_CONCURRENCY=3

USER app
EXPOSE 8000

# Apply migrations, then serve. Workers: WEB_CONCURRENCY (default 3); other gunicorn options: GUNICORN_CMD_ARGS.
CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn governance.wsgi:application -c python:governance.gunicorn_conf --bind 0.0.0.0:8000 --worker-tmp-dir /dev/shm --access-logfile -"]
