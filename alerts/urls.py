from django.urls import path

from . import bulk_views, dashboard_views, review_views, views
from .learning import views as learning
from .notify import urls as notify_urls

app_name = "alerts"

urlpatterns = [
    path("alerts/", views.queue_page, name="queue"),
    path("alerts/bulk/", bulk_views.queue_bulk, name="bulk"),
    path("alerts/dashboard/", dashboard_views.dashboard_page, name="dashboard"),
    path("alerts/<int:pk>/", views.alert_page, name="alert"),
    path("alerts/<int:pk>/claim/", views.alert_claim, name="claim"),
    path("alerts/<int:pk>/release/", views.alert_release, name="release"),
    path("alerts/<int:pk>/transition/", views.alert_transition, name="transition"),
    path("alerts/<int:pk>/assign/", views.alert_assign, name="assign"),
    path("alerts/<int:pk>/comments/", views.alert_comment, name="comment"),
    path("alerts/<int:pk>/unmask/", review_views.alert_unmask, name="unmask"),
    path("alerts/settings/", review_views.review_settings_page, name="review_settings"),
    # The learning loop (alerts/learning/)
    path("alerts/learning/", learning.learning_page, name="learning"),
    path("alerts/learning/examples/", learning.examples_page, name="learning_examples"),
    path("alerts/learning/examples/<int:pk>/exclude/", learning.exclude, name="learning_exclude"),
    path("alerts/learning/examples/<int:pk>/include/", learning.include, name="learning_include"),
    path("alerts/learning/retrain/", learning.retrain, name="learning_retrain"),
    path("alerts/learning/rollback/", learning.rollback, name="learning_rollback"),
    path("alerts/learning/models/<int:pk>/", learning.model_page, name="learning_model"),
    path("alerts/learning/models/<int:pk>/promote/", learning.promote, name="learning_promote"),
]

# Notifications and notices (alerts/notify/).
urlpatterns += notify_urls.urlpatterns
