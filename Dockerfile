FROM python:3.11-slim
WORKDIR /srv
COPY pyproject.toml README.md ./
COPY ledger ledger
COPY credentials credentials
COPY schemas schemas
COPY verifier verifier
COPY issuer issuer
COPY app app
RUN pip install --no-cache-dir .
ENV CARBONLABEL_DATA_DIR=/data CARBONLABEL_HOST=0.0.0.0 CARBONLABEL_PORT=8000
EXPOSE 8000
# `log init` runs the migrations and creates the log key if absent, then the service starts.
CMD ["sh", "-c", "carbonlabel log init && exec carbonlabel serve"]
