"""Views outside the resource viewsets: health, the schema and the Scalar docs page."""
from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from thirdlane import health
from thirdlane.api.errors import problem_response


class HealthView(APIView):
    """Database, Redis and worker state. Open to anyone (load balancers call it); says nothing secret.

    200 when the database and Redis answer (a missing worker is reported but degrades, not fails);
    503 otherwise."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: inline_serializer("Health", {
        "status": serializers.ChoiceField(choices=["ok", "degraded", "error"]),
        "database": serializers.DictField(), "redis": serializers.DictField(), "worker": serializers.DictField(),
    })}, auth=[])
    def get(self, request):
        database = health.check_database()
        redis_state = health.check_redis()
        worker = health.check_worker(redis_state["status"] == "ok")
        if database["status"] != "ok" or redis_state["status"] != "ok":
            overall, code = "error", 503
        elif worker["status"] != "ok":
            overall, code = "degraded", 200
        else:
            overall, code = "ok", 200
        return Response({"status": overall, "database": database, "redis": redis_state, "worker": worker},
                        status=code)


def docs_page(request):
    """Scalar, from our own static files: works with no internet."""
    return render(request, "api/docs.html", {"schema_url": "/api/schema/?format=json"})


@csrf_exempt  # an unsafe method on an unknown /api/ path is a 404 problem, not the CSRF page
def api_not_found(request, exception=None):
    return problem_response("not_found", "No such API endpoint.")


def server_error(request):
    if request.path.startswith("/api/"):
        return problem_response("internal_error", "Unexpected server error. Quote the request id when reporting it.")
    return HttpResponse("Server error. Quote the X-Request-ID header when reporting it.", status=500,
                        content_type="text/plain")


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    return HttpResponse("Not found.", status=404, content_type="text/plain")
