# carepress: one image for the worker, the HTTP service and the CLI.
FROM python:3.11-slim-bookworm

# WeasyPrint's system libraries; libharfbuzz-subset0 makes font subsetting 3-7x faster.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /srv/carepress
COPY pyproject.toml README.md ./
COPY generator generator
COPY cli cli
COPY worker worker
COPY templates templates
COPY api api
RUN pip install --no-cache-dir ".[monitor]" && rm -rf generator cli worker templates api

# The demo content as a default; docker-compose mounts the real content tree over it.
COPY content content
RUN useradd --uid 10001 --no-create-home carepress && mkdir out && chown carepress out
USER carepress

ENV CAREPRESS_CONTENT_DIR=/srv/carepress/content \
    CAREPRESS_OUT_DIR=/srv/carepress/out \
    PYTHONUNBUFFERED=1
CMD ["carepress", "worker"]
