"""Pages for customer imports."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
