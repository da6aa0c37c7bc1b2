"""Pages for customer imports (included in the ``contacts`` namespace)."""

from django.urls import URLPattern, path

from clientela.contacts import views_imports as views

urlpatterns: list[URLPattern] = [
    path("imports/", views.import_list, name="import_list"),
    path("imports/new/", views.import_upload, name="import_upload"),
    path("imports/<int:import_id>/", views.import_detail, name="import_detail"),
    path("imports/<int:import_id>/mapping/", views.import_mapping, name="import_mapping"),
    path("imports/<int:import_id>/start/", views.import_start, name="import_start"),
    path("imports/<int:import_id>/undo/", views.import_undo, name="import_undo"),
    path("imports/<int:import_id>/errors.csv", views.import_errors, name="import_errors"),
]
