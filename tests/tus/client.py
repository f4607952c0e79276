"""Drives tuspy (the tus project's Python client) for Hoist's end-to-end tests.

Uploads a file to a tus endpoint, or resumes an upload by its URL, in chunks of a given size,
optionally with Upload-Checksum (sha1) and stopping after a number of bytes; prints one JSON
line: {"url": <upload URL>, "offset": <bytes the server has>}.
"""

import argparse
import json
import sys

from tusclient import client


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--chunk-size", type=int, required=True)
    parser.add_argument("--checksum", action="store_true")
    parser.add_argument("--stop-at", type=int)
    parser.add_argument("--resume-url")
    parser.add_argument("--metadata", action="append", default=[])
    args = parser.parse_args()

    tus = client.TusClient(args.endpoint, headers={"Authorization": f"Bearer {args.token}"})
    metadata = dict(pair.split("=", 1) for pair in args.metadata)
    uploader = tus.uploader(
        args.file,
        chunk_size=args.chunk_size,
        metadata=metadata,
        upload_checksum=args.checksum,
        url=args.resume_url,
    )
    uploader.upload(stop_at=args.stop_at)
    print(json.dumps({"url": uploader.url, "offset": uploader.offset}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
