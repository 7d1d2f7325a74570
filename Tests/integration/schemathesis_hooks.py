"""Loaded by schemathesis (SCHEMATHESIS_HOOKS) in test_openapi.py.

Bodies: a resumable append's `application/partial-upload` and tus's `application/offset+octet-stream`
are raw bytes, like `application/octet-stream`.

tus: every tus request but OPTIONS and GET names `Tus-Resumable: 1.0.0`, a required header of const
value in the document, so schemathesis sends it on every valid request and leaves it out or changes
it only in the negative cases it makes for it (412 is their answer). Two of the relations no schema
can state are filled in as a tus client would, on every other request whose headers are valid, so
that those requests reach the upload engine instead of stopping at the first check:
- PATCH /tus/{uploadId} gets the upload's current `Upload-Offset` (learned from the server's
  answers, as a client learns it from HEAD): its bytes are appended, checksummed and counted, or
  refused for what they are; the other requests keep their drawn offset (409 mostly).
- POST /tus gets `Upload-Metadata` naming a configured provider, so its lengths, bodies and checksums
  are what the answer is about.
"""
import base64
import os

import schemathesis
from schemathesis.core.parameters import ParameterLocation

schemathesis.serializer.alias("application/partial-upload", "application/octet-stream")
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")

TUS_APPEND = "PATCH /tus/{uploadId}"
TUS_CREATE = "POST /tus"
METADATA = "provider_id " + base64.b64encode(b"pixverse").decode() + ",filename " + base64.b64encode(b"fuzz.bin").decode()
# The upload test_openapi.py made for HEAD and PATCH starts with 11 bytes ("first bytes").
state = {"offset": os.environ.get("ASSETDEDUP_TUS_OFFSET", "11"), "count": 0}


def _valid_headers(case):
    """Whether schemathesis generated this case's headers as valid ones."""
    meta = case.meta
    if meta is None:
        return False
    component = meta.components.get(ParameterLocation.HEADER)
    return not (component.mode if component is not None else meta.generation.mode).is_negative


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    label = case.operation.label
    if label not in (TUS_APPEND, TUS_CREATE) or not case.headers or not _valid_headers(case):
        return
    state["count"] += 1
    if state["count"] % 2:
        return  # every other valid request goes as drawn
    if label == TUS_APPEND and "Upload-Offset" in case.headers:
        case.headers["Upload-Offset"] = state["offset"]
    elif label == TUS_CREATE and "Upload-Concat" not in case.headers:
        case.headers["Upload-Metadata"] = METADATA


@schemathesis.hook
def after_call(ctx, case, response):
    if case.operation.label == TUS_APPEND and case.path_parameters.get("uploadId") == os.environ.get("ASSETDEDUP_TUS_ID"):
        offset = response.headers.get("upload-offset")
        if offset:
            state["offset"] = offset[0] if isinstance(offset, list) else offset
