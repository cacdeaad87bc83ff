import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orgconnectors.settings")

app = Celery("orgconnectors")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
