from django.urls import path

from . import views

app_name = "policies"

urlpatterns = [
    path("policies/", views.policy_list_page, name="list"),
    path("policies/new/", views.policy_new_page, name="new"),
    path("policies/<int:pk>/", views.policy_page, name="policy"),
    path("policies/<int:pk>/edit/", views.policy_edit_page, name="edit"),
    path("policies/<int:pk>/switch/", views.policy_switch, name="switch"),
    path("policies/<int:pk>/versions/<int:number>/", views.version_page, name="version"),
    path("policies/<int:pk>/changes/", views.diff_page, name="diff"),
    path("policies/packs/<slug:slug>/switch-on/", views.pack_enable, name="pack_enable"),
    path("policies/packs/<slug:slug>/<int:index>/copy/", views.pack_copy, name="pack_copy"),
]
