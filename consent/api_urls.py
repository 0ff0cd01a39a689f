"""API routes of the consent app, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from .api.employees import EmployeeViewSet
from .api.notices import ConsentNoticeViewSet
from .api.teams import TeamViewSet

router = SimpleRouter(trailing_slash=True)
router.register("employees", EmployeeViewSet, basename="employee")
router.register("consent-notices", ConsentNoticeViewSet, basename="consent-notice")
router.register("teams", TeamViewSet, basename="team")

urlpatterns = router.urls
