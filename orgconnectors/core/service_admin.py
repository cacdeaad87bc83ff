"""Admin pages that write through the services, so the admin keeps the same rules and audit trail.

A ServiceError raised while saving or deleting becomes an error message on the page instead of a
server error; an action reports each object it could not change.
"""

from collections.abc import Callable, Iterable

from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from orgconnectors.core.errors import ServiceError


class ServiceModelAdmin(admin.ModelAdmin):
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceError as error:
            # The admin's own transaction has rolled back; show the page again with the reason.
            self.message_user(request, error.message, level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ServiceError as error:
            self.message_user(request, error.message, level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def get_actions(self, request):
        actions = super().get_actions(request)
        # The bulk delete skips delete_model, and with it the service and its audit event.
        actions.pop("delete_selected", None)
        return actions

    def run_for_each(
        self,
        request,
        objects: Iterable,
        call: Callable[[object], object],
        *,
        done: str,
    ) -> None:
        """Call the service for each object; one message for the successes, one per refusal."""
        succeeded = 0
        for obj in objects:
            try:
                call(obj)
            except ServiceError as error:
                self.message_user(request, f"{obj}: {error.message}", level=messages.ERROR)
            else:
                succeeded += 1
        if succeeded:
            self.message_user(request, done.format(count=succeeded), level=messages.SUCCESS)


class ReadOnlyModelAdmin(ServiceModelAdmin):
    """Shown, never edited here: changes happen through actions that call a service."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
