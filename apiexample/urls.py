"""URL routes: no trailing slash, as in Auth0's quickstart."""

from __future__ import annotations

from django.urls import path

from apiexample import views

# Errors Django answers itself (an unknown path, a refused Host header, a crashed view) as JSON.
handler400 = views.bad_request
handler404 = views.not_found
handler500 = views.server_error

urlpatterns = [
    path("api/public", views.public),
    path("api/private", views.private),
    path("api/private-scoped", views.private_scoped),
]
