# The gasguard image used by docker-compose.yml for ingest, api, migrate and simulator.
FROM python:3.11-slim
WORKDIR /opt/gasguard
COPY pyproject.toml README.md ./
COPY gasguard ./gasguard
COPY ingest ./ingest
COPY safety ./safety
COPY meters ./meters
COPY api ./api
COPY contract ./contract
COPY transport ./transport
COPY simulators ./simulators
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --create-home --home-dir /var/lib/gasguard gasguard
USER gasguard
ENV GASGUARD_DATA_DIR=/var/lib/gasguard
CMD ["gasguard", "--help"]
