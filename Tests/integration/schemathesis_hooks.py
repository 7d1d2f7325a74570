"""Loaded by schemathesis (SCHEMATHESIS_HOOKS) in test_openapi.py: a resumable append's body,
`application/partial-upload`, is raw bytes like `application/octet-stream`."""
import schemathesis

schemathesis.serializer.alias("application/partial-upload", "application/octet-stream")
