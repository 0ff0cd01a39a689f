"""API routes of the ingestion app, mounted under /api/v1/."""

from django.urls import path

from .api import WhatsAppSettingsView

urlpatterns = [
    path("whatsapp-settings/", WhatsAppSettingsView.as_view(), name="api-whatsapp-settings"),
]
