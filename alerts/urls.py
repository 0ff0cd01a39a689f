from django.urls import path

from . import dashboard_views, views

app_name = "alerts"

urlpatterns = [
    path("alerts/", views.queue_page, name="queue"),
    path("alerts/dashboard/", dashboard_views.dashboard_page, name="dashboard"),
    path("alerts/<int:pk>/", views.alert_page, name="alert"),
    path("alerts/<int:pk>/claim/", views.alert_claim, name="claim"),
    path("alerts/<int:pk>/release/", views.alert_release, name="release"),
    path("alerts/<int:pk>/transition/", views.alert_transition, name="transition"),
    path("alerts/<int:pk>/assign/", views.alert_assign, name="assign"),
    path("alerts/<int:pk>/comments/", views.alert_comment, name="comment"),
]
