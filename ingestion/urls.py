from django.urls import path

from . import views, webhook

app_name = "ingestion"

urlpatterns = [
    # Meta's deliveries never get here: ingestion/middleware.py (first in MIDDLEWARE) answers
    # them before URL routing, skipping the browser's middleware, for speed (measured in
    # docs/benchmarks.md). The route stays so reverse() names the URL, and a test keeps the
    # middleware's pattern equal to this one: change both together.
    path(
        "webhooks/whatsapp/<slug:tenant_slug>/", webhook.whatsapp_webhook, name="whatsapp_webhook"
    ),
    path("whatsapp/settings/", views.settings_page, name="whatsapp_settings"),
    path("whatsapp/settings/check/", views.connection_check, name="connection_check"),
    path("whatsapp/coverage/", views.coverage_page, name="coverage"),
    path(
        "whatsapp/notices/<int:pk>/acknowledge/",
        views.notice_acknowledge,
        name="notice_acknowledge",
    ),
]
