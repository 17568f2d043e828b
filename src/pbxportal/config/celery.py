"""Celery on Redis (or RabbitMQ); eager in the embedded default (no CELERY_BROKER_URL)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbxportal.config.settings")

app = Celery("pbxportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
