"""Customer accounts over HTTP: /api/v1/auth/ (sign-up, verification, sign-in, tokens, password
reset) and /api/v1/me/ (profile, password, sessions, address book, deletion)."""

from django.contrib.auth import update_session_auth_hash
from drf_spectacular.utils import OpenApiExample, extend_schema
from knox.auth import TokenAuthentication as BearerAuthentication
from knox.models import AuthToken
from rest_framework import status, viewsets
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from apps.accounts import selectors
from apps.accounts.serializers import (
    AcceptedSerializer,
    AccountDeleteSerializer,
    AddressInputSerializer,
    AddressSerializer,
    EmailVerifiedSerializer,
    LinkSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    ProfileSerializer,
    ProfileUpdateSerializer,
    SessionSerializer,
    SignInSerializer,
    SignUpSerializer,
    TokenSerializer,
)
from apps.accounts.services import addresses, passwords, profile, registration, sessions
from apps.accounts.throttling import AccountThrottle, ClientAddressThrottle
from apps.accounts.types import IssuedToken
from apps.common.http.problems import problem_responses
from apps.common.http.routing import UUID_LOOKUP_REGEX
from apps.common.http.throttling import AnonThrottle, UserThrottle

THROTTLES = [AnonThrottle, UserThrottle, ClientAddressThrottle, AccountThrottle]
SIGN_UP_ANSWER = ("If the address can be used, an email is on its way to it: follow its link to verify "
                  "the address. You can sign in meanwhile.")
RESET_ANSWER = "If an account uses this address, an email with a link to set a new password is on its way."
VERIFICATION_ANSWER = "A new verification email is on its way."
# Examples (illustrative values, not credentials of any account).
EMAIL, PASSWORD = "ada@example.com", "correct-horse-battery-9"  # nosec B105
LINK_EXAMPLE = {"uid": "MTI", "token": "cdp8xk-1f0e9a3b7c2d4e5f60718293a4b5c6d7"}  # nosec B105
TOKEN_EXAMPLE = OpenApiExample("Signed in", response_only=True, value={
    "token": "5b0c2f3e8a1d4c6b9e7f0a2d4c6e8b0a1c3e5f7a9b1d3f5e7a9c1e3f5a7b9d1e",  # nosec B105
    "token_type": "Bearer", "token_key": "5b0c2f3e8a1d4c6", "expiry": "2026-11-27T10:00:00Z"})
ACCEPTED = {202: AcceptedSerializer}


def _client(request) -> str:
    return BaseThrottle().get_ident(request)


AUTH_SCHEME = "Bearer"


def _token_response(issued: IssuedToken) -> Response:
    body = TokenSerializer({"token": issued.token, "token_type": AUTH_SCHEME, "token_key": issued.token_key,
                            "expiry": issued.expiry}).data
    return Response(body, headers={"Cache-Control": "no-store"})


def _bearer_token(request) -> AuthToken:
    if not isinstance(request.auth, AuthToken):
        raise NotAuthenticated("Send the customer token as `Authorization: Bearer <token>`.")
    return request.auth


def _presented(request) -> AuthToken | None:
    return request.auth if isinstance(request.auth, AuthToken) else None


class _AnonymousFlow(APIView):
    """Open to anyone, and deaf to credentials: a stale token must not stop a sign-in."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = THROTTLES


@extend_schema(tags=["auth"])
class SignUpView(_AnonymousFlow):
    throttle_scope = "signup"

    @extend_schema(request=SignUpSerializer, responses={**ACCEPTED, **problem_responses(400, 422, 429)},
                   examples=[OpenApiExample("Sign up", request_only=True, value={
                       "email": EMAIL, "password": PASSWORD, "first_name": "Ada", "last_name": "Lovelace",
                       "marketing_consent": False}),
                       OpenApiExample("Accepted", response_only=True, status_codes=["202"],
                                      value={"detail": SIGN_UP_ANSWER})])
    def post(self, request):
        """Create a customer account with an email (the login, case does not matter) and a
        password (Django's password rules; a refused one is 422 `password_rejected`).

        The answer is 202 whether or not the email is registered already, so that it tells nobody
        who has an account: a new email gets a verification link by email, a registered one gets
        an email telling its owner. Sign in at once; verifying the email (POST
        /api/v1/auth/email/verify/) adds your earlier guest orders to your history. Limited per
        client address and per email (429 with Retry-After)."""
        serializer = SignUpSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        registration.customer_sign_up(**serializer.validated_data)
        return Response({"detail": SIGN_UP_ANSWER}, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["auth"])
class EmailVerifyView(_AnonymousFlow):
    throttle_scope = "email_verification"

    @extend_schema(request=LinkSerializer, responses={200: EmailVerifiedSerializer, **problem_responses(400, 422, 429)},
                   examples=[OpenApiExample("The link's uid and token", request_only=True, value=LINK_EXAMPLE)])
    def post(self, request):
        """Verify the email with the `uid` and `token` of the link the verification email carries.
        A link works once and for ACCOUNTS_EMAIL_VERIFICATION_TIMEOUT (3 days); an expired, used
        or altered one is 422 `link_invalid`. Earlier guest orders placed with this email join the
        account (`orders_attached`)."""
        serializer = LinkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        verified = registration.email_verify(**serializer.validated_data)
        return Response(EmailVerifiedSerializer({"email_verified": True,
                                                 "orders_attached": verified.orders_attached}).data)


@extend_schema(tags=["auth"])
class EmailVerificationView(APIView):
    throttle_classes = THROTTLES
    throttle_scope = "email_verification"

    @extend_schema(request=None, responses={**ACCEPTED, **problem_responses(401, 403, 409, 429)})
    def post(self, request):
        """Email a new verification link to the signed-in customer (the earlier links keep working
        until they expire). An email verified already is 409 `email_verified_already`."""
        customer = selectors.customer_of(user=request.user)
        registration.email_verification_request(user=customer.user)
        return Response({"detail": VERIFICATION_ANSWER}, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["auth"])
class SignInView(_AnonymousFlow):
    throttle_scope = "signin"

    @extend_schema(request=SignInSerializer, responses={200: TokenSerializer, **problem_responses(400, 401, 429)},
                   examples=[OpenApiExample("Sign in", request_only=True, value={"email": EMAIL, "password": PASSWORD}),
                             TOKEN_EXAMPLE])
    def post(self, request):
        """Sign in with email and password: a token to send as `Authorization: Bearer <token>`,
        valid until `expiry` (ACCOUNTS_TOKEN_TTL_SECONDS, a day) unless refreshed. Only its
        digest is stored. A wrong email or password is 401 `invalid_credentials`, the same for
        both. Limited per client address and per email (429 with Retry-After)."""
        serializer = SignInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = sessions.session_start(**serializer.validated_data, client=_client(request))
        return _token_response(issued)


@extend_schema(tags=["auth"])
class TokenRefreshView(APIView):
    authentication_classes = [BearerAuthentication]

    @extend_schema(request=None, responses={200: TokenSerializer, **problem_responses(401, 429)},
                   examples=[TOKEN_EXAMPLE])
    def post(self, request):
        """Exchange the Bearer token of the request for a new one with a fresh expiry; the old one
        stops working at once (a second refresh of it is 401)."""
        token = _bearer_token(request)
        return _token_response(sessions.session_refresh(user=request.user, token=token))


@extend_schema(tags=["auth"])
class SignOutView(APIView):
    authentication_classes = [BearerAuthentication]

    @extend_schema(request=None, responses={204: None, **problem_responses(401, 429)})
    def post(self, request):
        """Sign out: the Bearer token of the request stops working. Other sessions go on (see
        /api/v1/me/sessions/)."""
        sessions.session_end(token=_bearer_token(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class PasswordResetView(_AnonymousFlow):
    throttle_scope = "password_reset"

    @extend_schema(request=PasswordResetSerializer, responses={**ACCEPTED, **problem_responses(400, 429)},
                   examples=[OpenApiExample("Forgot password", request_only=True, value={"email": EMAIL})])
    def post(self, request):
        """Ask for a password reset link by email. The answer is 202 for any email, registered or
        not; only a customer account's gets an email. The link works once, for
        ACCOUNTS_PASSWORD_RESET_TIMEOUT (an hour)."""
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        passwords.password_reset_request(email=serializer.validated_data["email"])
        return Response({"detail": RESET_ANSWER}, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["auth"])
class PasswordResetConfirmView(_AnonymousFlow):
    throttle_scope = "password_reset"

    @extend_schema(request=PasswordResetConfirmSerializer, responses={204: None, **problem_responses(400, 422, 429)},
                   examples=[OpenApiExample("New password", request_only=True,
                                            value={**LINK_EXAMPLE, "new_password": PASSWORD})])
    def post(self, request):
        """Set a new password with the `uid` and `token` of the reset link. Every session of the
        account ends. An expired, used or altered link is 422 `link_invalid`; a password the rules
        refuse is 422 `password_rejected`."""
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        passwords.password_reset_confirm(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["me"])
class MeView(APIView):
    @extend_schema(responses={200: ProfileSerializer, **problem_responses(401, 403, 429)})
    def get(self, request):
        """Your profile. Staff and integration users have none (403 `not_a_customer`)."""
        return Response(ProfileSerializer(selectors.customer_of(user=request.user)).data)

    @extend_schema(request=ProfileUpdateSerializer,
                   responses={200: ProfileSerializer, **problem_responses(400, 401, 403, 422, 429)},
                   examples=[OpenApiExample("Phone and consent", request_only=True,
                                            value={"phone": "+49 151 23456789", "marketing_consent": True})])
    def patch(self, request):
        """Change your name, phone (any international format, stored as E.164; an invalid number
        is 422 `phone_invalid`) or marketing consent (the time of the change is kept)."""
        serializer = ProfileUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = profile.customer_update(user=request.user, **serializer.validated_data)
        return Response(ProfileSerializer(customer).data)


@extend_schema(tags=["me"])
class AccountDeleteView(APIView):
    throttle_classes = THROTTLES
    throttle_scope = "signin"  # it checks a password, as sign-in does

    @extend_schema(request=AccountDeleteSerializer,
                   responses={204: None, **problem_responses(400, 401, 403, 409, 422, 429)})
    def post(self, request):
        """Delete your account, confirming with your password (422 `password_incorrect`): your
        profile and address book are deleted, every session ends, and your past orders keep their
        lines and amounts (for accounting) without your email, phone, names and street. While an
        order is still to be shipped, deletion waits: 409 `orders_still_open`."""
        serializer = AccountDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        profile.customer_delete(user=request.user, password=serializer.validated_data["password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["me"])
class PasswordChangeView(APIView):
    throttle_classes = THROTTLES
    throttle_scope = "signin"

    @extend_schema(request=PasswordChangeSerializer,
                   responses={204: None, **problem_responses(400, 401, 403, 422, 429)})
    def post(self, request):
        """Change your password, giving the current one (422 `password_incorrect`). Every other
        session ends; the one of this request goes on."""
        selectors.customer_of(user=request.user)
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        passwords.password_change(user=request.user, keep=_presented(request), **serializer.validated_data)
        if request.auth is None and request.user.is_authenticated:  # a browser session: keep it signed in
            update_session_auth_hash(request._request, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["me"])
class SessionViewSet(viewsets.ViewSet):
    lookup_field = "token_key"
    lookup_value_regex = r"[0-9a-f]{1,25}"

    @extend_schema(responses={200: SessionSerializer(many=True), **problem_responses(401, 429)})
    def list(self, request):
        """Your signed-in sessions (customer tokens), newest first, by `token_key`; `current` marks
        the one of this request."""
        tokens = selectors.session_list(user=request.user)
        return Response(SessionSerializer(tokens, many=True, context={"presented": _presented(request)}).data)

    @extend_schema(responses={204: None, **problem_responses(401, 404, 429)})
    def destroy(self, request, token_key=None):
        """Revoke one of your sessions: its token stops working. Another customer's is 404."""
        sessions.session_revoke(user=request.user, token_key=token_key)
        return Response(status=status.HTTP_204_NO_CONTENT)


ADDRESS_EXAMPLE = OpenApiExample("Berlin", request_only=True, value={
    "name": "Erika Mustermann", "line1": "Heidestrasse 17", "city": "Berlin", "postal_code": "10557",
    "country": "DE", "phone": "+49 30 1234567", "is_default_shipping": True})
ADDRESS_ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429)


@extend_schema(tags=["me"])
class AddressViewSet(viewsets.ViewSet):
    lookup_value_regex = UUID_LOOKUP_REGEX

    @extend_schema(responses={200: AddressSerializer(many=True), **problem_responses(401, 403, 429)})
    def list(self, request):
        """Your address book (at most ACCOUNTS_MAX_ADDRESSES addresses), oldest first."""
        selectors.customer_of(user=request.user)
        return Response(AddressSerializer(selectors.address_list(user=request.user), many=True).data)

    @extend_schema(request=AddressInputSerializer, responses={201: AddressSerializer, **ADDRESS_ERRORS},
                   examples=[ADDRESS_EXAMPLE])
    def create(self, request):
        """Add an address. It is checked against its country's rules (required fields, postal code
        format, region names; 422 `address_invalid` naming each field) and stored normalised. Your
        first address becomes your default for shipping and billing; setting a default takes it
        from the address that had it."""
        serializer = AddressInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        defaults = {name: data.pop(name) for name in ("is_default_shipping", "is_default_billing") if name in data}
        address = addresses.address_create(user=request.user, data=data, **defaults)
        return Response(AddressSerializer(address).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: AddressSerializer, **problem_responses(401, 403, 404, 429)})
    def retrieve(self, request, pk=None):
        """One address of your address book; another customer's is 404."""
        return Response(AddressSerializer(selectors.address_get(user=request.user, address_id=pk)).data)

    @extend_schema(request=AddressInputSerializer(partial=True), responses={200: AddressSerializer, **ADDRESS_ERRORS})
    def partial_update(self, request, pk=None):
        """Change some fields of an address (it is checked again as a whole), or make it a default."""
        serializer = AddressInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        defaults = {name: data.pop(name) for name in ("is_default_shipping", "is_default_billing") if name in data}
        address = addresses.address_update(user=request.user, address_id=pk, data=data, **defaults)
        return Response(AddressSerializer(address).data)

    @extend_schema(responses={204: None, **problem_responses(401, 403, 404, 429)})
    def destroy(self, request, pk=None):
        """Delete an address; if it was a default, you have no default of that kind until you set one."""
        addresses.address_delete(user=request.user, address_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
