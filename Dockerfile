# idgraph API and workers. Built by docker-compose.yml; the same image runs both.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    IDGRAPH_DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY app ./app
COPY graph ./graph
COPY ml ./ml
COPY cypher ./cypher
RUN pip install --no-cache-dir . && useradd --create-home idgraph && mkdir -p /data && chown idgraph /data

USER idgraph
EXPOSE 8000
CMD ["idgraph", "serve", "--host", "0.0.0.0", "--port", "8000"]
