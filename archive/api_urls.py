"""API routes of the archive, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from .api import (
    AttachmentViewSet,
    ConversationViewSet,
    LogCheckpointViewSet,
    MessageEventViewSet,
    MessageViewSet,
    SavedSearchViewSet,
)
from .exporting.api import ExportViewSet
from .holds.api import LegalHoldViewSet
from .retention.api import ErasureRequestViewSet, RetentionPolicyViewSet

router = SimpleRouter(trailing_slash=True)
router.register("conversations", ConversationViewSet, basename="conversation")
router.register("messages", MessageViewSet, basename="message")
router.register("message-events", MessageEventViewSet, basename="message-event")
router.register("attachments", AttachmentViewSet, basename="attachment")
router.register("saved-searches", SavedSearchViewSet, basename="saved-search")
router.register("retention-policies", RetentionPolicyViewSet, basename="retention-policy")
router.register("erasure-requests", ErasureRequestViewSet, basename="erasure-request")
router.register("legal-holds", LegalHoldViewSet, basename="legal-hold")
router.register("exports", ExportViewSet, basename="export")
router.register("ledger/checkpoints", LogCheckpointViewSet, basename="ledger-checkpoint")

urlpatterns = router.urls
