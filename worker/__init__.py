"""Celery worker front-end: renders queued documents through the same generator/ code."""
