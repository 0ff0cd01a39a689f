"""``/api/v1/consent-notices/``: the tenant's notice versions; drafts change, published never."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from compliance_hub.api.base import TenantViewSet
from compliance_hub.api.errors import conflict
from compliance_hub.api.permissions import ALL_ROLES
from compliance_hub.api.responses import CONFLICT, INVALID, NOT_FOUND
from compliance_hub.tenancy.models import Role

from .. import services
from ..models import ConsentNotice
from .serializers import (
    ConsentNoticeSerializer,
    NoticeDraftInputSerializer,
    NoticePublishInputSerializer,
)


class ConsentNoticeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Notice versions, drafts first then newest version first. Everyone reads; admins write
    drafts and publish them."""

    allowed_roles = ALL_ROLES
    write_roles = (Role.ADMIN,)
    model = ConsentNotice
    serializer_class = ConsentNoticeSerializer
    filterset_fields = ["status"]

    def tenant_queryset(self):
        return ConsentNotice.objects.filter(tenant=self.tenant).select_related(
            "created_by", "published_by"
        )

    @extend_schema(
        request=NoticeDraftInputSerializer, responses={201: ConsentNoticeSerializer, 400: INVALID}
    )
    def create(self, request, *args, **kwargs):
        """Start a draft; publish it when the text is final."""
        incoming = NoticeDraftInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        notice = services.create_notice_draft(
            tenant=self.tenant,
            texts=incoming.validated_data["texts"],
            actor=self.actor,
        )
        return Response(ConsentNoticeSerializer(notice).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=NoticeDraftInputSerializer,
        responses={200: ConsentNoticeSerializer, 400: INVALID, 404: NOT_FOUND, 409: CONFLICT},
    )
    def partial_update(self, request, *args, **kwargs):
        """Change a draft's texts. A published notice never changes (409)."""
        notice = self.get_object()
        incoming = NoticeDraftInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            services.update_notice_draft(
                notice=notice,
                texts=incoming.validated_data["texts"],
                actor=self.actor,
            )
        except services.ConsentError as error:
            raise conflict(error) from None
        return Response(ConsentNoticeSerializer(notice).data)

    @extend_schema(
        request=NoticePublishInputSerializer,
        responses={200: ConsentNoticeSerializer, 400: INVALID, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def publish(self, request, pk=None):
        """Freeze the draft as the next version. With ``reconsent_deadline``, consents to earlier
        versions stop covering capture at that moment."""
        notice = self.get_object()
        incoming = NoticePublishInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            services.publish_notice(
                notice=notice,
                actor=self.actor,
                reconsent_deadline=incoming.validated_data.get("reconsent_deadline"),
            )
        except services.ConsentError as error:
            raise conflict(error) from None
        return Response(ConsentNoticeSerializer(notice).data)
