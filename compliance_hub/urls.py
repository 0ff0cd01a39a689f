from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import errors, health, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("tenant/switch/", views.switch_tenant, name="switch_tenant"),
    path("account/", views.account_settings, name="account_settings"),
    path("members/", views.members, name="members"),
    path("members/<int:pk>/", views.member_update, name="member_update"),
    path("members/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("join/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("api-keys/", views.api_keys, name="api_keys"),
    path("api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("audit/", views.audit_log, name="audit_log"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("consent.urls")),
    path("", include("ingestion.urls")),
    path("", include("archive.urls")),
    path("", include("policies.urls")),
    path("", include("alerts.urls")),
    path("favicon.ico", views.favicon),
    # Before allauth's own route of the same path: two-factor cannot be switched off.
    path("accounts/2fa/totp/deactivate/", views.mfa_deactivate_refused),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("compliance_hub.api.urls")),
    path("api/v1/", include("consent.api_urls")),
    path("api/v1/", include("ingestion.api_urls")),
    path("api/v1/", include("archive.api_urls")),
    path("api/v1/", include("policies.api_urls")),
    path("api/v1/", include("policies.run_api_urls")),
    path("api/v1/", include("alerts.api_urls")),
    path("api/v1/", include("alerts.stats_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: no inline script for the CSP to block.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    # Last: every other address under /api/ is the API's JSON 404, whatever DEBUG says.
    re_path(r"^api/", errors.api_not_found, name="api-not-found"),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
# allauth looks this name up for its rate limits (allauth.core.ratelimit.respond_429).
handler429 = views.too_many_requests
