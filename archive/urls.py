from django.urls import path

from . import views

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
    path("archive/messages/<int:pk>/proof/", views.message_proof_page, name="message_proof"),
    path("archive/messages/<int:pk>/history/", views.message_history_page, name="message_history"),
]
