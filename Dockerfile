# One image for the API, the worker and the one-shot migration job:
# the command picks which (`appraisal api | worker | migrate`).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY appraisal ./appraisal
RUN pip install --no-cache-dir . && useradd --system appraisal \
    && mkdir -p /var/lib/appraisal/seal && chown appraisal /var/lib/appraisal/seal && chmod 700 /var/lib/appraisal/seal
# SEAL_DIR: a named volume mounted here takes this owner, so `appraisal seal init` can write it.
USER appraisal
ENV API_HOST=0.0.0.0
EXPOSE 8000
CMD ["appraisal", "api"]
