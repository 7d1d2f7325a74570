"""The blob storage a test stack runs on: the data folder's blobs/ (`local`, the default) or a
bucket of its own on the S3-compatible test server (`s3`), chosen by `ASSETDEDUP_TEST_BLOBS`.
scripts/s3-server starts the server (moto, signatures checked) and exports its endpoint and key;
tests read the bucket through boto3 with the same key."""
import os
import secrets

BLOBS = os.environ.get("ASSETDEDUP_TEST_BLOBS", "local")
ENDPOINT = os.environ.get("ASSETDEDUP_TEST_S3_ENDPOINT", "")
if BLOBS not in ("local", "s3"):
    raise SystemExit(f"ASSETDEDUP_TEST_BLOBS must be local or s3, got {BLOBS!r}")
if BLOBS == "s3" and not ENDPOINT:
    raise SystemExit("ASSETDEDUP_TEST_BLOBS=s3 needs ASSETDEDUP_TEST_S3_ENDPOINT (scripts/s3-server start DIR)")


def client(secret=None):
    """boto3's S3 client on the test server (`secret`: another secret key, to see it refused)."""
    import boto3  # moto's dependency, in .venv
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=ENDPOINT, region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=secret or os.environ["AWS_SECRET_ACCESS_KEY"],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


class StoredBlob:
    """A blob in a bucket, shaped like the `pathlib.Path` of a local blob for the tests."""

    def __init__(self, bucket, key):
        self.bucket, self.key = bucket, key
        self.name = key.rsplit("/", 1)[-1]

    def read_bytes(self):
        return client().get_object(Bucket=self.bucket, Key=self.key)["Body"].read()

    def __eq__(self, other):
        return isinstance(other, StoredBlob) and (self.bucket, self.key) == (other.bucket, other.key)

    def __lt__(self, other):
        return self.key < other.key

    def __repr__(self):
        return f"s3://{self.bucket}/{self.key}"


class Bucket:
    """A new bucket for one stack; `env` is what `serve` and the CLI need to use it."""

    def __init__(self):
        self.name = "t-" + secrets.token_hex(8)
        self.s3 = client()
        self.s3.create_bucket(Bucket=self.name)
        self.env = {"ASSETDEDUP_BLOBS": f"s3://{self.name}/", "ASSETDEDUP_S3_ENDPOINT": ENDPOINT}

    def keys(self, prefix=""):
        found = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix):
            found += [item["Key"] for item in page.get("Contents", [])]
        return sorted(found)

    def blobs(self):
        return [StoredBlob(self.name, key) for key in self.keys("blobs/sha256/")]

    def blob(self, digest):
        """The blob for `digest`, or None."""
        key = f"blobs/sha256/{digest}"
        return StoredBlob(self.name, key) if key in self.keys(key) else None

    def put_blob(self, digest, content):
        self.s3.put_object(Bucket=self.name, Key=f"blobs/sha256/{digest}", Body=content)

    def open_multipart_uploads(self):
        return self.s3.list_multipart_uploads(Bucket=self.name).get("Uploads", [])

    def drop(self):
        for upload in self.open_multipart_uploads():
            self.s3.abort_multipart_upload(Bucket=self.name, Key=upload["Key"], UploadId=upload["UploadId"])
        for key in self.keys():
            self.s3.delete_object(Bucket=self.name, Key=key)
        self.s3.delete_bucket(Bucket=self.name)
