"""Tracing's private parts: the header formats, sampling, the span model and propagation.

The public names live in :mod:`sentry_sdk.tracing`. Nothing is imported here, so that loading one
part (the scope needs only the propagation context) does not load the others.
"""
