"""Routes of the test project: path() converters, a regex route, nested includes, a class-based view."""

from __future__ import annotations

from django.urls import include, path, re_path

from . import views

urlpatterns = [
    path("ok/", views.ok),
    path("message/<int:id>", views.message),
    re_path(r"^api/(?P<version>(v1|v2))/author/$", views.author),
    path(
        "shop/",
        include(
            [
                path("items/<slug:slug>/", views.item),
                re_path(r"^legacy/(?P<year>[0-9]{4})/$", views.item),
            ]
        ),
    ),
    path("cbv/<int:id>/", views.MessageView.as_view()),
    path("not-found/", views.not_found),
    path("forbidden/", views.forbidden),
    path("suspicious/", views.suspicious),
    path("host/", views.host),
    path("template/", views.template_error),
    path("tagged/", views.tagged),
    path("form/", views.form),
    path("upload/", views.upload),
    path("json/", views.json_body),
    path("stream/", views.stream),
    path("fail/", views.fail),
    path("capture-then-read/", views.capture_then_read),
    path("lazy-user/", views.lazy_user),
    path("middleware-fails/", views.ok),
    path("async/ok/", views.async_ok),
    path("async/fail/", views.async_fail),
    path("sync/fail/", views.sync_fail),
]

# The span tests' routes (test_django_spans.py).
from . import span_views  # noqa: E402

urlpatterns += [
    path("spans/template/", span_views.template),
    path("spans/string/", span_views.string),
    path("spans/current/", span_views.current),
    path("spans/async-current/", span_views.async_current),
    path("spans/named/", span_views.current, name="spans-named"),
    path("spans/signal/", span_views.signal),
    path("spans/async-signal/", span_views.async_signal),
    path("spans/cache/", span_views.cache),
    path("spans/atomic/", span_views.atomic),
]
