from django.urls import path

from . import bulk_views, views

app_name = "alerts"

urlpatterns = [
    path("alerts/", views.queue_page, name="queue"),
    path("alerts/bulk/", bulk_views.queue_bulk, name="bulk"),
    path("alerts/<int:pk>/", views.alert_page, name="alert"),
    path("alerts/<int:pk>/claim/", views.alert_claim, name="claim"),
    path("alerts/<int:pk>/release/", views.alert_release, name="release"),
    path("alerts/<int:pk>/transition/", views.alert_transition, name="transition"),
    path("alerts/<int:pk>/assign/", views.alert_assign, name="assign"),
    path("alerts/<int:pk>/comments/", views.alert_comment, name="comment"),
]
