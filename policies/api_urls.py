"""API routes of policies, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from .api.views import PolicyHitViewSet, PolicyPackViewSet, PolicyViewSet

router = SimpleRouter(trailing_slash=True)
router.register("policies", PolicyViewSet, basename="policy")
router.register("policy-packs", PolicyPackViewSet, basename="policy-pack")
router.register("policy-hits", PolicyHitViewSet, basename="policy-hit")

urlpatterns = router.urls
