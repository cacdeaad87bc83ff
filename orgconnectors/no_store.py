"""No cache keeps an API answer: each is private to its caller, and some carry secrets (a new
API token, the Messages API configuration with members' OAuth tokens, an invitation). The
dashboard's pages that show secrets say so themselves (`never_cache`)."""

from django.utils.cache import add_never_cache_headers

_API_PREFIX = "/api/"


class ApiAnswersAreNotStored:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith(_API_PREFIX):
            add_never_cache_headers(response)
        return response
