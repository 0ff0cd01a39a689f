from rest_framework.throttling import SimpleRateThrottle


class TenantRateThrottle(SimpleRateThrottle):
    """Per API key (or per user), so one noisy integration cannot starve another; anonymous
    requests are throttled by address."""

    scope = "tenant"

    def get_cache_key(self, request, view) -> str:
        api_key = getattr(request._request, "api_key", None)
        if api_key is not None:
            ident = f"key:{api_key.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
