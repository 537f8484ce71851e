"""One DRF endpoint that inserts one row, with the whistle API's authentication and
permission (the project's REST_FRAMEWORK defaults: token or session, signed in)."""

from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.ceiling.models import Ping


class PingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ping
        fields = ["id", "note", "created_at"]
        read_only_fields = ["id", "created_at"]


class CeilingView(APIView):
    """POST {"note": ...} stores one Ping and answers 201 with it."""

    def post(self, request: Request) -> Response:
        serializer = PingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data, status=status.HTTP_201_CREATED)
