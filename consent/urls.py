"""Browser routes of the consent app. ``consent/r/`` and ``consent/w/`` are public (the token is
the credential); everything else needs a tenant role."""

from django.urls import path

from . import views

app_name = "consent"

urlpatterns = [
    # Public: the monitored employee, from the links in their emails.
    path("consent/r/<str:token>/", views.respond, name="respond"),
    path("consent/w/<str:token>/", views.withdraw, name="withdraw"),
    # Employees.
    path("employees/", views.employees, name="employees"),
    path("employees/teams/", views.team_create, name="team_create"),
    path("employees/invite-all/", views.employees_invite_all, name="employees_invite_all"),
    path("employees/import/", views.employee_import, name="employee_import"),
    path(
        "employees/import/<int:pk>/",
        views.employee_import_preview,
        name="employee_import_preview",
    ),
    path(
        "employees/import/<int:pk>/confirm/",
        views.employee_import_confirm,
        name="employee_import_confirm",
    ),
    path(
        "employees/import/<int:pk>/discard/",
        views.employee_import_discard,
        name="employee_import_discard",
    ),
    path("employees/<int:pk>/", views.employee_detail, name="employee"),
    path("employees/<int:pk>/invite/", views.employee_invite, name="employee_invite"),
    path(
        "employees/<int:pk>/consent/record/",
        views.employee_record_consent,
        name="employee_record_consent",
    ),
    path(
        "employees/<int:pk>/consent/withdraw/",
        views.employee_withdraw,
        name="employee_withdraw",
    ),
    path("employees/<int:pk>/deactivate/", views.employee_deactivate, name="employee_deactivate"),
    path(
        "employees/<int:pk>/evidence/<int:event_pk>/",
        views.evidence_download,
        name="evidence",
    ),
    # Notices and the register.
    path("consent/notices/", views.notices, name="notices"),
    path("consent/notices/<int:pk>/", views.notice_detail, name="notice"),
    path("consent/notices/<int:pk>/publish/", views.notice_publish, name="notice_publish"),
    path("consent/register/", views.register, name="register"),
    path("consent/register.csv", views.register_csv, name="register_csv"),
]
