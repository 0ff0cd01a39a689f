"""``/api/v1/teams/``: the tenant's teams, for an HR system that syncs employees through the API.
Everyone reads; admins create, rename and delete (a team with employees is never deleted)."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from compliance_hub.api.base import TenantViewSet
from compliance_hub.api.errors import conflict
from compliance_hub.api.permissions import ALL_ROLES, BehindTheWall, HasTenantRole
from compliance_hub.api.responses import INVALID, NOT_FOUND, error_response
from compliance_hub.tenancy.models import Role

from .. import services
from ..employee_rules import MAX_TEAM_NAME
from ..models import Team
from ..selectors import team_list


class TeamSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    employee_count = serializers.IntegerField(
        help_text="Employees in the team, deactivated ones included"
    )
    active_employee_count = serializers.IntegerField(help_text="Of those, the active ones")
    created_at = serializers.DateTimeField()


class TeamInputSerializer(serializers.Serializer):
    # Only the shape here; the rule (trimmed, one line, unique per tenant whatever the case) is
    # the service's, so the page, the API and the import cannot disagree.
    name = serializers.CharField(
        max_length=MAX_TEAM_NAME,
        allow_blank=True,  # refused by the rule, in its words
        help_text="Unique in the tenant, compared without regard to case; surrounding spaces "
        "are removed",
    )


class TeamFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(
        field_name="name", lookup_expr="iexact", help_text="Team name, any case"
    )

    class Meta:
        model = Team
        fields = ["name"]


TEAM_IN_USE = error_response("Employees belong to the team (deactivated ones too); not deleted")


class TeamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Teams of the tenant by name, with their employee counts. Everyone reads; admins create,
    rename (PATCH) and delete them. Employees name their team in /api/v1/employees/."""

    allowed_roles = ALL_ROLES
    # A small team's name and size name its members: refused to a masked officer (the queue
    # offers them the teams of at least alerts.masking.SMALL_TEAM active employees).
    permission_classes = [HasTenantRole, BehindTheWall]
    wall_actions: tuple[str, ...] = ()
    write_roles = (Role.ADMIN,)
    model = Team
    serializer_class = TeamSerializer
    filterset_class = TeamFilter

    def tenant_queryset(self):
        return team_list(tenant=self.tenant)

    def _fresh(self, team: Team) -> Team:
        return team_list(tenant=self.tenant).get(pk=team.pk)

    @extend_schema(responses={200: TeamSerializer, 404: NOT_FOUND})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(request=TeamInputSerializer, responses={201: TeamSerializer, 400: INVALID})
    def create(self, request, *args, **kwargs):
        incoming = TeamInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        team = services.create_team(
            tenant=self.tenant,
            name=incoming.validated_data["name"],
            actor=self.actor,
        )
        return Response(TeamSerializer(self._fresh(team)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=TeamInputSerializer,
        responses={200: TeamSerializer, 400: INVALID, 404: NOT_FOUND},
    )
    def partial_update(self, request, *args, **kwargs):
        """Rename: employees stay in the team."""
        team = self.get_object()
        incoming = TeamInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.rename_team(
            team=team,
            name=incoming.validated_data["name"],
            actor=self.actor,
        )
        return Response(TeamSerializer(self._fresh(team)).data)

    @extend_schema(responses={204: None, 404: NOT_FOUND, 409: TEAM_IN_USE})
    def destroy(self, request, *args, **kwargs):
        """Delete a team nobody belongs to; with employees (deactivated ones count, as their
        archive stays filed under it) the answer is 409 and nothing changes."""
        team = self.get_object()
        try:
            services.delete_team(team=team, actor=self.actor)
        except services.TeamInUse as error:
            raise conflict(error) from None
        return Response(status=status.HTTP_204_NO_CONTENT)
