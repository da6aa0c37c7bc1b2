"""Pages for customer dedupe and privacy (included in the ``contacts`` namespace)."""

from django.urls import URLPattern, path

from clientela.contacts import views_dedupe as views

urlpatterns: list[URLPattern] = [
    path("duplicates/", views.duplicates, name="duplicates"),
    path("duplicates/check/", views.duplicates_check, name="duplicates_check"),
    path("people/<int:person_id>/merge/<int:other_id>/", views.person_merge, name="person_merge"),
    path("companies/<int:company_id>/merge/<int:other_id>/", views.company_merge, name="company_merge"),
    path("people/<int:person_id>/privacy/", views.person_privacy, name="person_privacy"),
    path(
        "people/<int:person_id>/privacy/export.json",
        views.person_privacy_export,
        name="person_privacy_export",
    ),
    path("people/<int:person_id>/privacy/erase/", views.person_erase, name="person_erase"),
]
