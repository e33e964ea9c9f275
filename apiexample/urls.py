"""URL routes: no trailing slash, as in Auth0's quickstart."""

from __future__ import annotations

from django.urls import path

from apiexample import views

urlpatterns = [
    path("api/public", views.public),
    path("api/private", views.private),
    path("api/private-scoped", views.private_scoped),
]
