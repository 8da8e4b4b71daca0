"""Staff API of notifications: webhook endpoints, deliveries (with replay), dead letters."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.http.conditional import if_match_version
from apps.common.http.openapi import etag_header
from apps.common.http.pagination import CursorPagination
from apps.common.http.permissions import HasStaffPermission
from apps.common.http.problems import problem_responses
from apps.common.http.routing import UUID_LOOKUP_REGEX
from apps.notifications import selectors
from apps.notifications.serializers import (
    DeadLettersSerializer,
    DeliveryDetailSerializer,
    DeliveryFilterSerializer,
    DeliverySerializer,
    ReplayDeadSerializer,
    ReplayResultSerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
    WebhookEndpointWithSecretSerializer,
)
from apps.notifications.services.endpoints import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)
from apps.notifications.services.replay import deliveries_replay_dead, delivery_replay

ERRORS = problem_responses(400, 401, 403, 404, 409, 412, 422, 429)
IF_MATCH_HEADER = OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=False,
                                   description="The endpoint's ETag; a stale one gets 412.")
ETAG = etag_header("endpoint", 200)
ETAG_CREATED = etag_header("endpoint", 201)
MANAGE_WEBHOOKS = "notifications.manage_webhooks"


def _expected_version(request) -> int | None:
    return if_match_version(request.headers.get("If-Match"))


def _endpoint_response(endpoint, serializer_class=WebhookEndpointSerializer, status_code=status.HTTP_200_OK):
    return Response(serializer_class(endpoint).data, status=status_code, headers={"ETag": f'"{endpoint.version}"'})


class EndpointPagination(CursorPagination):
    ordering = "-created_at"


@extend_schema(tags=["notifications"])
class WebhookEndpointViewSet(viewsets.GenericViewSet):
    permission_classes = [HasStaffPermission]
    staff_permissions = {
        "list": "notifications.view_webhookendpoint",
        "retrieve": "notifications.view_webhookendpoint",
        "create": MANAGE_WEBHOOKS,
        "partial_update": MANAGE_WEBHOOKS,
        "destroy": MANAGE_WEBHOOKS,
        "rotate_secret": MANAGE_WEBHOOKS,
    }
    serializer_class = WebhookEndpointSerializer
    pagination_class = EndpointPagination
    lookup_value_regex = UUID_LOOKUP_REGEX

    def get_queryset(self):
        return selectors.webhook_endpoint_list()

    @extend_schema(responses={200: WebhookEndpointSerializer(many=True), **ERRORS},
                   description="Staff: the registered webhook endpoints, newest first (without their secrets).")
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WebhookEndpointSerializer(page, many=True).data)

    @extend_schema(request=WebhookEndpointCreateSerializer, parameters=[ETAG_CREATED],
                   responses={201: WebhookEndpointWithSecretSerializer, **ERRORS},
                   description="Register an endpoint. The answer carries its signing secret, "
                               "the only time it is shown.")
    def create(self, request):
        data = WebhookEndpointCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, _ = webhook_endpoint_create(owner=request.user, **data.validated_data)
        return _endpoint_response(endpoint, WebhookEndpointWithSecretSerializer, status.HTTP_201_CREATED)

    @extend_schema(parameters=[ETAG], responses={200: WebhookEndpointSerializer, **ERRORS},
                   description="Staff: one webhook endpoint (without its secret). Its ETag is what If-Match takes.")
    def retrieve(self, request, pk=None):
        return _endpoint_response(selectors.webhook_endpoint_get(endpoint_id=pk))

    @extend_schema(request=WebhookEndpointUpdateSerializer, parameters=[IF_MATCH_HEADER, ETAG],
                   responses={200: WebhookEndpointSerializer, **ERRORS},
                   description="Staff: change the URL, event types, description or is_active of an endpoint.")
    def partial_update(self, request, pk=None):
        data = WebhookEndpointUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_update(endpoint_id=pk, expected_version=_expected_version(request),
                                           **data.validated_data)
        return _endpoint_response(endpoint)

    @extend_schema(parameters=[IF_MATCH_HEADER], responses={204: None, **ERRORS},
                   description="Staff: remove an endpoint. Its deliveries stay as history; those not yet sent "
                               "are given up.")
    def destroy(self, request, pk=None):
        webhook_endpoint_delete(endpoint_id=pk, expected_version=_expected_version(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, parameters=[IF_MATCH_HEADER, ETAG],
                   responses={200: WebhookEndpointWithSecretSerializer, **ERRORS},
                   description="A new secret, shown once. The old one keeps signing for the grace period "
                               "(NOTIFICATIONS_WEBHOOK_SECRET_GRACE_HOURS): both signatures are sent meanwhile.")
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        endpoint, _ = webhook_endpoint_rotate_secret(endpoint_id=pk,
                                                     expected_version=_expected_version(request))
        return _endpoint_response(endpoint, WebhookEndpointWithSecretSerializer)


@extend_schema(tags=["notifications"])
class DeliveryViewSet(viewsets.GenericViewSet):
    permission_classes = [HasStaffPermission]
    staff_permissions = {
        "list": "notifications.view_delivery",
        "retrieve": "notifications.view_delivery",
        "replay": "notifications.replay_delivery",
        "replay_dead": "notifications.replay_delivery",
    }
    serializer_class = DeliverySerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        filters = DeliveryFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.delivery_list(**filters.validated_data)

    @extend_schema(parameters=[DeliveryFilterSerializer], responses={200: DeliverySerializer(many=True), **ERRORS},
                   description="Staff: notification deliveries (one per event, channel and recipient), "
                               "filtered by status, channel or event type.")
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(responses={200: DeliveryDetailSerializer, **ERRORS},
                   description="Staff: one delivery with every attempt and its outcome.")
    def retrieve(self, request, pk=None):
        return Response(DeliveryDetailSerializer(selectors.delivery_get(delivery_id=int(pk))).data)

    @extend_schema(request=None, responses={202: DeliveryDetailSerializer, **ERRORS},
                   description="Give a dead delivery a new cycle of attempts.")
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        delivery_replay(delivery_id=int(pk), actor=request.user)
        return Response(DeliveryDetailSerializer(selectors.delivery_get(delivery_id=int(pk))).data,
                        status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=ReplayDeadSerializer, responses={202: ReplayResultSerializer, **ERRORS},
                   description="Replay dead deliveries: the ids given, those matching the filters, or all.")
    @action(detail=False, methods=["post"], url_path="replay-dead")
    def replay_dead(self, request):
        data = ReplayDeadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        replayed = deliveries_replay_dead(delivery_ids=data.validated_data.get("ids"),
                                          event_type=data.validated_data.get("event_type"),
                                          channel=data.validated_data.get("channel"), actor=request.user)
        return Response({"replayed": replayed}, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["notifications"])
class DeadLettersView(APIView):
    permission_classes = [HasStaffPermission]
    staff_permissions = {"get": "notifications.view_delivery"}

    @extend_schema(responses={200: DeadLettersSerializer, **ERRORS},
                   description="Depth of the notifications.dead queue and the number of dead deliveries.")
    def get(self, request):
        return Response(DeadLettersSerializer(selectors.dead_letters_summary()).data)

