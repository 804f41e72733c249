# One image for the API, the worker and the one-shot migration job:
# the command picks which (`appraisal api | worker | migrate`).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY appraisal ./appraisal
RUN pip install --no-cache-dir . && useradd --system appraisal
USER appraisal
ENV API_HOST=0.0.0.0
EXPOSE 8000
CMD ["appraisal", "api"]
