"""Pages for customer dedupe."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
