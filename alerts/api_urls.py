"""API routes of alerts, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from .api.views import AlertViewSet

router = SimpleRouter(trailing_slash=True)
router.register("alerts", AlertViewSet, basename="alert")

urlpatterns = router.urls
