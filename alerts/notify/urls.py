"""Routes of notifications and notices, added to alerts/urls.py (namespace "alerts")."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("alerts/notifications/", views.notifications_page, name="notifications"),
    path("alerts/notices/", views.notice_templates_page, name="notice_templates"),
    path(
        "alerts/notices/<slug:kind>/<slug:language>/",
        views.notice_template_save,
        name="notice_template_save",
    ),
    path("alerts/<int:pk>/watch/", views.alert_watch, name="watch"),
    path("alerts/<int:pk>/notice/", views.alert_notice, name="notice"),
]
