"""Every Hoist operation through the Python client openapi-python-client generated from the
served spec, and nothing else: no hand-written HTTP. Errors must arrive as the typed
`ErrorEnvelope` with a code of the closed `ErrorBodyCode` enum; every client raises on a
status the spec does not document. What was stored is checked in the embedded store's
folder, not through Hoist.
"""

from __future__ import annotations

import base64
import io
import struct
import urllib.request
import uuid
import zlib
from http import HTTPStatus

import yaml

from hoist_client import AuthenticatedClient, Client
from hoist_client.api.files import (
    delete_files,
    list_files,
    list_files_page,
    put_file_object,
    upload_file,
)
from hoist_client.api.images import upload_image
from hoist_client.api.meta import heartbeat, list_buckets, ready
from hoist_client.api.triggers import list_triggers, trigger
from hoist_client.models import (
    DataDeleteReport,
    DataFilePage,
    DataHeartbeat,
    DataListBucketInfo,
    DataListListedFile,
    DataListTriggerInfo,
    DataReadiness,
    DataStoredObject,
    DataTriggerOutcome,
    ErrorBodyCode,
    ErrorEnvelope,
    ImageUpload,
    TriggerInfoAuth,
    TriggerRequest,
    TriggerRequestData,
    UploadFileBody,
)
from hoist_client.types import UNSET, File, Response

UPLOADS = "sdk-uploads"
IMAGES = "sdk-images"


def unique_prefix() -> str:
    return f"sdk/{uuid.uuid4().hex[:12]}"


def png(width: int = 2, height: int = 1) -> bytes:
    """A real PNG (RGB, no compression tricks), made here so the test ships no binary file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def ok(response: Response, kind: type):
    assert response.status_code == HTTPStatus.OK, response.content
    assert isinstance(response.parsed, kind), response.parsed
    return response.parsed.data


def refused(response: Response, status: int, code: str) -> str:
    """Asserts a typed error envelope; returns its message."""
    assert response.status_code == status, response.content
    envelope = response.parsed
    assert isinstance(envelope, ErrorEnvelope), response.content
    assert isinstance(envelope.error.code, ErrorBodyCode)
    assert envelope.error.code == ErrorBodyCode(code), envelope.error.code
    assert envelope.error.status == status
    assert envelope.error.correlation_id == response.headers["x-correlation-id"]
    assert envelope.error.message
    return envelope.error.message


def test_heartbeat_and_ready(anonymous: Client):
    beat = ok(heartbeat.sync_detailed(client=anonymous), DataHeartbeat)
    assert beat.status == "ok"
    assert set(ok(ready.sync_detailed(client=anonymous), DataReadiness).buckets) == {
        "uploads",
        "images",
    }


def test_buckets(user: AuthenticatedClient):
    buckets = ok(list_buckets.sync_detailed(client=user), DataListBucketInfo)
    by_alias = {bucket.alias: bucket for bucket in buckets}
    assert set(by_alias) == {"uploads", "images"}
    assert by_alias["uploads"].is_default and not by_alias["images"].is_default


def test_triggers_are_listed_with_typed_levels(supreme, user):
    listed = ok(list_triggers.sync_detailed(client=supreme), DataListTriggerInfo)
    by_name = {entry.name: entry for entry in listed}
    assert by_name["public-echo"].auth is TriggerInfoAuth.PUBLIC
    assert by_name["user-echo"].auth is TriggerInfoAuth.USER
    assert by_name["echo"].auth is TriggerInfoAuth.SUPREME
    assert by_name["echo"].kind == "http"
    assert by_name["echo"].target.endswith("/echo")
    # Targets are for supreme callers only: absent (not null) for a user token.
    for entry in ok(list_triggers.sync_detailed(client=user), DataListTriggerInfo):
        assert entry.target is UNSET


def test_trigger_calls(anonymous, user, supreme):
    body = TriggerRequest(data=TriggerRequestData.from_dict({"eventId": "123", "n": [1, 2]}))
    outcome = ok(trigger.sync_detailed("echo", client=supreme, body=body), DataTriggerOutcome)
    assert outcome.success is True
    assert outcome.status_code == 200
    assert outcome.payload["received"] == {"eventId": "123", "n": [1, 2]}
    assert outcome.execution_arn is UNSET

    # A public trigger needs no token; a user-level one any valid token.
    public = trigger.sync_detailed("public-echo", client=anonymous, body=body)
    assert ok(public, DataTriggerOutcome).success is True
    assert ok(trigger.sync_detailed("user-echo", client=user, body=body), DataTriggerOutcome).success

    # The webhook's own refusal is reported, not hidden, and not an error.
    refusal = TriggerRequest(data=TriggerRequestData.from_dict({"refuse": True}))
    answered = ok(trigger.sync_detailed("echo", client=supreme, body=refusal), DataTriggerOutcome)
    assert answered.success is False and answered.status_code == 422

    refused(trigger.sync_detailed("broken", client=supreme, body=body), 502, "trigger-failed")
    refused(trigger.sync_detailed("no-such-trigger", client=supreme, body=body), 404, "unknown-trigger")
    refused(trigger.sync_detailed("echo", client=user, body=body), 403, "forbidden")
    refused(trigger.sync_detailed("user-echo", client=anonymous, body=body), 401, "unauthorized")
    refused(
        trigger.sync_detailed("echo", client=supreme, body=body, idempotency_key="not ok!"),
        400,
        "invalid-idempotency-key",
    )


def test_multipart_upload_keeps_name_and_type(supreme, store_root):
    prefix = unique_prefix()
    data = b"id,name\n1,alpha\n2,beta\n"
    form = UploadFileBody(
        file=File(payload=io.BytesIO(data), file_name="report.csv", mime_type="text/csv"),
    )
    # The generated call sends the destination in the query string, known before the file
    # starts, so the file streams; the form holds nothing but the file.
    assert [name for name, _ in form.to_multipart()] == ["file"]
    stored = ok(
        upload_file.sync_detailed(client=supreme, body=form, prefix=prefix, bucket_name="uploads"),
        DataStoredObject,
    )
    assert stored.key == f"{prefix}/report.csv"
    assert stored.name == "report.csv"
    assert stored.bucket == "uploads"
    assert stored.size == len(data)
    assert stored.content_type == "text/csv"
    assert (store_root / UPLOADS / stored.key).read_bytes() == data


def test_raw_upload_keeps_its_type(supreme, store_root):
    prefix = unique_prefix()
    data = b'{"hello": "world"}'
    stored = ok(
        put_file_object.sync_detailed(
            client=supreme,
            key=f"{prefix}/hello.json",
            content_type="application/json",
            body=File(payload=io.BytesIO(data), file_name="hello.json"),
        ),
        DataStoredObject,
    )
    assert stored.content_type == "application/json"
    assert stored.size == len(data)
    assert (store_root / UPLOADS / prefix / "hello.json").read_bytes() == data

    # Without contentType the generated client sends application/octet-stream: the
    # server then tells the type from the bytes.
    image = png()
    sniffed = ok(
        put_file_object.sync_detailed(
            client=supreme, key=f"{prefix}/pixel", body=File(payload=io.BytesIO(image))
        ),
        DataStoredObject,
    )
    assert sniffed.content_type == "image/png"

    # A checksum header that does not match the bytes stores nothing.
    message = refused(
        put_file_object.sync_detailed(
            client=supreme,
            key=f"{prefix}/bad.bin",
            x_amz_checksum_sha256=base64.b64encode(b"\0" * 32).decode(),
            body=File(payload=io.BytesIO(b"some bytes")),
        ),
        400,
        "checksum-mismatch",
    )
    assert "sha256" in message
    assert not (store_root / UPLOADS / prefix / "bad.bin").exists()


def _put(client: AuthenticatedClient, key: str, data: bytes) -> None:
    ok(
        put_file_object.sync_detailed(
            client=client, key=key, content_type="text/plain", body=File(payload=io.BytesIO(data))
        ),
        DataStoredObject,
    )


def test_list_and_page_to_the_end_by_cursor(supreme):
    prefix = unique_prefix()
    keys = [f"{prefix}/file-{index:02}.txt" for index in range(7)]
    for key in keys:
        _put(supreme, key, key.encode())

    listed = list_files.sync_detailed(client=supreme, prefix=prefix)
    assert listed.headers["x-truncated"] == "false"
    everything = ok(listed, DataListListedFile)
    assert sorted(item.key for item in everything) == keys
    dates = [item.date for item in everything]
    assert dates == sorted(dates, reverse=True), "newest first"

    seen: list[str] = []
    cursor = UNSET
    for _ in range(len(keys)):  # a bound: 3 pages are expected
        page = ok(
            list_files_page.sync_detailed(client=supreme, prefix=prefix, limit=3, cursor=cursor),
            DataFilePage,
        )
        assert page.total == len(keys)
        seen.extend(item.key for item in page.items)
        cursor = page.cursor
        # The last page has no cursor at all: absent, never null.
        if cursor is UNSET:
            break
        assert isinstance(cursor, str) and cursor
    else:
        raise AssertionError(f"paging by cursor did not end: {seen}")
    assert seen == [item.key for item in everything]

    refused(
        list_files_page.sync_detailed(client=supreme, prefix=prefix, cursor="not-a-cursor"),
        400,
        "invalid-cursor",
    )
    message = refused(
        list_files_page.sync_detailed(client=supreme, prefix=prefix, limit=0), 400, "bad-request"
    )
    assert "limit" in message


def test_delete(supreme, store_root):
    prefix = unique_prefix()
    keys = [f"{prefix}/a.txt", f"{prefix}/b.txt"]
    for key in keys:
        _put(supreme, key, b"x")
    report = ok(
        delete_files.sync_detailed(client=supreme, file_keys=",".join(keys), bucket_name="uploads"),
        DataDeleteReport,
    )
    assert sorted(report.deleted) == keys
    assert report.errors == []
    for key in keys:
        assert not (store_root / UPLOADS / key).exists()
    refused(delete_files.sync_detailed(client=supreme, file_keys=" , "), 400, "missing-file-keys")


def test_image_upload(user, store_root):
    image = png(3, 2)
    stored = ok(
        upload_image.sync_detailed(
            client=user,
            body=ImageUpload(
                base64=base64.b64encode(image).decode(),
                content_type="image/png",
                file_name="Holiday Photo.png",
            ),
        ),
        DataStoredObject,
    )
    assert stored.bucket == "images"
    assert stored.key.startswith("Holiday_Photo_") and stored.key.endswith(".png")
    assert stored.content_type == "image/png"
    assert (store_root / IMAGES / stored.key).read_bytes() == image

    refused(
        upload_image.sync_detailed(
            client=user,
            body=ImageUpload(base64=base64.b64encode(image).decode(), content_type="image/tiff"),
        ),
        415,
        "unsupported-content-type",
    )
    refused(
        upload_image.sync_detailed(
            client=user, body=ImageUpload(base64=base64.b64encode(b"GIF89a").decode(), content_type="image/png")
        ),
        415,
        "content-type-mismatch",
    )


def test_error_envelopes_are_typed(server, user, supreme):
    refused(list_files.sync_detailed(client=supreme, bucket_name="nope"), 400, "unknown-bucket")
    refused(
        put_file_object.sync_detailed(
            client=supreme, key="a/../b.txt", body=File(payload=io.BytesIO(b"x"))
        ),
        400,
        "invalid-key",
    )
    refused(list_files.sync_detailed(client=user), 403, "forbidden")
    stranger = AuthenticatedClient(
        base_url=server.url, token="not-a-jwt", raise_on_unexpected_status=True
    )
    refused(list_buckets.sync_detailed(client=stranger), 401, "invalid-token")


def test_json_types_are_strict(user):
    # The generated model does not check types, so a number goes out as a number.
    wrong = ImageUpload(base64=5, content_type="image/png")  # type: ignore[arg-type]
    message = refused(upload_image.sync_detailed(client=user, body=wrong), 400, "bad-request")
    assert "`base64`" in message and "expected a string" in message, message
    for internal in ("ImageUpload", "parse", "occurred", "integer("):
        assert internal not in message, message


def test_the_spec_examples_are_accepted(server, user, supreme):
    with urllib.request.urlopen(f"{server.url}/openapi.yaml", timeout=10) as answer:
        spec = yaml.safe_load(answer)
    schemas = spec["components"]["schemas"]
    image = ImageUpload.from_dict(schemas["ImageUpload"]["example"])
    ok(upload_image.sync_detailed(client=user, body=image), DataStoredObject)
    payload = TriggerRequest.from_dict(schemas["TriggerRequest"]["example"])
    ok(trigger.sync_detailed("echo", client=supreme, body=payload), DataTriggerOutcome)
