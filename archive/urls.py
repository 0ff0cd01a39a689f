from django.urls import path

from . import views
from .exporting import views as export_views
from .holds import views as holds
from .retention import views as retention

app_name = "archive"

urlpatterns = [
    path("archive/", views.conversation_list_page, name="conversations"),
    path("archive/search/", views.search_page, name="search"),
    path("archive/conversations/<int:pk>/", views.conversation_page, name="conversation"),
    path(
        "archive/attachments/<int:pk>/download/",
        views.attachment_download,
        name="attachment_download",
    ),
    path(
        "archive/attachments/<int:pk>/preview/",
        views.attachment_preview,
        name="attachment_preview",
    ),
    path("archive/holds/", holds.holds_page, name="holds"),
    path("archive/holds/new/", holds.hold_create_page, name="hold_create"),
    path("archive/holds/<int:pk>/", holds.hold_page, name="hold"),
    path("archive/holds/<int:pk>/release/", holds.hold_release, name="hold_release"),
    path("archive/messages/<int:pk>/proof/", views.message_proof_page, name="message_proof"),
    path("archive/retention/", retention.retention_page, name="retention"),
    path("archive/retention/<int:pk>/", retention.retention_policy_page, name="retention_policy"),
    path(
        "archive/retention/<int:pk>/delete/",
        retention.retention_policy_delete,
        name="retention_policy_delete",
    ),
    path("archive/erasure/", retention.erasure_page, name="erasure"),
    path("archive/messages/<int:pk>/history/", views.message_history_page, name="message_history"),
    path("archive/exports/", export_views.export_list_page, name="exports"),
    path("archive/exports/new/", export_views.export_new_page, name="export_new"),
    path("archive/exports/<int:pk>/", export_views.export_page, name="export"),
    path("archive/exports/<int:pk>/status/", export_views.export_status, name="export_status"),
    path(
        "archive/exports/<int:pk>/download/",
        export_views.export_download,
        name="export_download",
    ),
]
