"""The one place a service's error becomes a form error, next to the field it names."""

from django import forms

from orgconnectors.core.errors import ServiceError


def add_service_error(form: forms.Form, error: ServiceError) -> None:
    # A service may name a field this form does not show (the API's names); such an error still
    # reaches the person, above the form.
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)
