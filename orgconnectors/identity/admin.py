# Registered there: claimed email domains (operators verify them).
from orgconnectors.identity import admin_domains  # noqa: F401
