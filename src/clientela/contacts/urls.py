from django.urls import include, path

from clientela.contacts import views

app_name = "contacts"

urlpatterns = [
    path("people/", views.person_list, name="person_list"),
    path("people/new/", views.person_create, name="person_create"),
    path("people/<int:person_id>/", views.person_card, name="person_card"),
    path("people/<int:person_id>/edit/", views.person_edit, name="person_edit"),
    path("people/<int:person_id>/timeline/", views.person_timeline, name="person_timeline"),
    path("people/<int:person_id>/log/", views.person_log, name="person_log"),
    path("people/<int:person_id>/consent/", views.person_consent, name="person_consent"),
    path("people/<int:person_id>/cell/<str:field>/", views.person_cell, name="person_cell"),
    path("people/bulk/", views.person_bulk, name="person_bulk"),
    path("people/export.<str:fmt>", views.person_export, name="person_export"),
    path("companies/", views.company_list, name="company_list"),
    path("companies/new/", views.company_create, name="company_create"),
    path("companies/<int:company_id>/", views.company_card, name="company_card"),
    path("companies/<int:company_id>/edit/", views.company_edit, name="company_edit"),
    path("companies/<int:company_id>/timeline/", views.company_timeline, name="company_timeline"),
    path("companies/<int:company_id>/log/", views.company_log, name="company_log"),
    path("companies/bulk/", views.company_bulk, name="company_bulk"),
    path("trash/", views.trash, name="trash"),
    path("search/", views.search, name="search"),
    path("views/save/", views.saved_view_create, name="saved_view_create"),
    path("views/<int:view_id>/delete/", views.saved_view_delete, name="saved_view_delete"),
    path("settings/fields/", views.custom_fields, name="custom_fields"),
    path("settings/fields/<int:field_id>/archive/", views.custom_field_archive, name="custom_field_archive"),
    path("", include("clientela.contacts.urls_imports")),
    path("", include("clientela.contacts.urls_dedupe")),
]
