"""Message bodies and generated files, content-addressed."""

from academail.blobs.store import BlobStore, FileBlobStore, blob_key

__all__ = ["BlobStore", "FileBlobStore", "blob_key"]
