from django.urls import path
from rest_framework.routers import SimpleRouter

from . import schema, views  # noqa: F401 - schema registers the auth extensions

router = SimpleRouter(trailing_slash=True)
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("invitations", views.InvitationViewSet, basename="invitation")
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")

urlpatterns = [path("me/", views.MeView.as_view(), name="api-me"), *router.urls]
