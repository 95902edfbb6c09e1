# rq-gateway: REST + GraphQL gateway for RQ. Build, then try the demo (embedded in-memory Redis):
#   docker build -t rq-gateway .
#   docker run --rm -p 8000:8000 rq-gateway
# With your Redis, the container (listening on 0.0.0.0) refuses to start without API keys.
# Make one, keep the key (line 2 of admin.txt), and mount the hashed line:
#   docker run --rm rq-gateway rq-gateway keys create --name admin --role admin > admin.txt
#   tail -n 1 admin.txt > api-keys.txt
#   docker run --rm -p 8000:8000 -e REDIS_URL=redis://redis-host:6379/0 \
#     -v "$PWD/api-keys.txt:/etc/rq-gateway/api-keys.txt:ro" \
#     -e RQ_GATEWAY_API_KEYS_FILE=/etc/rq-gateway/api-keys.txt rq-gateway
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# An unprivileged user that owns nothing but its (empty) working directory.
RUN groupadd --system --gid 10001 gateway \
    && useradd --system --uid 10001 --gid gateway --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin gateway \
    && mkdir /app \
    && chown gateway:gateway /app

# Install the project (not editable), then drop the sources: the installed package is what runs.
COPY pyproject.toml README.md /tmp/src/
COPY gateway /tmp/src/gateway
RUN pip install --no-cache-dir /tmp/src \
    && rm -rf /tmp/src

WORKDIR /app
USER gateway

EXPOSE 8000

# Healthy only while Redis answers (/readyz gives 503 otherwise). The slim image has no curl;
# urlopen raises on any non-2xx answer or connection error, which makes python exit 1.
HEALTHCHECK --interval=15s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]

CMD ["rq-gateway", "serve", "--host", "0.0.0.0", "--port", "8000"]
