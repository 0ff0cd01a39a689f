"""API routes of the consent app, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from .api.employees import EmployeeViewSet
from .api.notices import ConsentNoticeViewSet

router = SimpleRouter(trailing_slash=True)
router.register("employees", EmployeeViewSet, basename="employee")
router.register("consent-notices", ConsentNoticeViewSet, basename="consent-notice")

urlpatterns = router.urls
