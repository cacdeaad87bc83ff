"""Logging filters that keep secrets out of log lines the libraries write.

django.template logs, at DEBUG, every variable a template could not resolve, with the exception
attached; that exception's message is the repr of the whole template context, which on the
Messages API page and the API token page holds the member's tokens. The line stays (which
variable, which template); the exception goes.
"""

import logging


class NoTemplateContext(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True
