"""Constants shared across the SDK: its version, identity, default limits, span ops and data keys."""

from __future__ import annotations

# We mirror the public API of sentry-sdk 2.68; reporting the same version lets
# version-gated user code and server-side features take the path they expect.
VERSION = "2.68.0"

SDK_NAME = "sentry.python"
SDK_PACKAGE = "pypi:sentry-sdk"
USER_AGENT = f"{SDK_NAME}/{VERSION}"

DEFAULT_MAX_BREADCRUMBS = 100
DEFAULT_QUEUE_SIZE = 100  # sentry-sdk's count bound; ours applies it only when set explicitly
# What the transport queue may hold, in encoded envelope bytes: thousands of typical events, so
# a burst is not cut at a small count, while memory stays bounded whatever the events' size.
DEFAULT_QUEUE_BYTES = 8 * 1024 * 1024
DEFAULT_SHUTDOWN_TIMEOUT = 2.0
DEFAULT_MAX_STACK_FRAMES = 100

# Server-side ingestion caps events at 1 MiB; keep our own budget below it.
MAX_EVENT_BYTES = 1_000_000


class OP:
    """Span operations (``op``) the integrations use; Sentry's product groups spans by them."""

    CACHE_GET = "cache.get"
    CACHE_PUT = "cache.put"
    DB = "db"
    DB_REDIS = "db.redis"
    EVENT_DJANGO = "event.django"
    FUNCTION = "function"
    FUNCTION_AWS = "function.aws"
    FUNCTION_GCP = "function.gcp"
    GRAPHQL_MUTATION = "graphql.mutation"
    GRAPHQL_QUERY = "graphql.query"
    HTTP_CLIENT = "http.client"
    HTTP_CLIENT_STREAM = "http.client.stream"
    HTTP_SERVER = "http.server"
    MIDDLEWARE_DJANGO = "middleware.django"
    MIDDLEWARE_STARLETTE = "middleware.starlette"
    MIDDLEWARE_STARLETTE_RECEIVE = "middleware.starlette.receive"
    MIDDLEWARE_STARLETTE_SEND = "middleware.starlette.send"
    MIDDLEWARE_STARLITE = "middleware.starlite"
    QUEUE_PROCESS = "queue.process"
    QUEUE_PUBLISH = "queue.publish"
    QUEUE_SUBMIT_CELERY = "queue.submit.celery"
    QUEUE_TASK_CELERY = "queue.task.celery"
    SOCKET_CONNECTION = "socket.connection"
    SOCKET_DNS = "socket.dns"
    SUBPROCESS = "subprocess"
    SUBPROCESS_COMMUNICATE = "subprocess.communicate"
    SUBPROCESS_WAIT = "subprocess.wait"
    TEMPLATE_RENDER = "template.render"
    VIEW_RENDER = "view.render"
    VIEW_RESPONSE_RENDER = "view.response.render"
    WEBSOCKET_SERVER = "websocket.server"


class SPANDATA:
    """Keys of span ``data`` with a meaning to Sentry (mostly OpenTelemetry's semantic conventions)."""

    CACHE_HIT = "cache.hit"
    CACHE_ITEM_SIZE = "cache.item_size"
    CACHE_KEY = "cache.key"
    CODE_FILEPATH = "code.filepath"
    CODE_FUNCTION = "code.function"
    CODE_LINENO = "code.lineno"
    CODE_NAMESPACE = "code.namespace"
    DB_NAME = "db.name"
    DB_OPERATION = "db.operation"
    DB_SYSTEM = "db.system"
    DB_USER = "db.user"
    HTTP_FRAGMENT = "http.fragment"
    HTTP_METHOD = "http.method"
    HTTP_QUERY = "http.query"
    HTTP_STATUS_CODE = "http.response.status_code"
    MESSAGING_DESTINATION_NAME = "messaging.destination.name"
    MESSAGING_MESSAGE_ID = "messaging.message.id"
    MESSAGING_MESSAGE_RECEIVE_LATENCY = "messaging.message.receive.latency"
    MESSAGING_MESSAGE_RETRY_COUNT = "messaging.message.retry.count"
    MESSAGING_SYSTEM = "messaging.system"
    SERVER_ADDRESS = "server.address"
    SERVER_PORT = "server.port"
    SERVER_SOCKET_ADDRESS = "server.socket.address"
    SERVER_SOCKET_PORT = "server.socket.port"
    THREAD_ID = "thread.id"
    THREAD_NAME = "thread.name"


__all__ = [
    "DEFAULT_MAX_BREADCRUMBS",
    "DEFAULT_MAX_STACK_FRAMES",
    "DEFAULT_QUEUE_BYTES",
    "DEFAULT_QUEUE_SIZE",
    "DEFAULT_SHUTDOWN_TIMEOUT",
    "MAX_EVENT_BYTES",
    "OP",
    "SDK_NAME",
    "SDK_PACKAGE",
    "SPANDATA",
    "USER_AGENT",
    "VERSION",
]
