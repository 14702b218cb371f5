"""The pipeline's logic: ingest, normalize and score, newsletter; the Lambda handlers are thin adapters."""
