"""Types of the compiled ETag responder: the same API as its pure twin, duoweb._tagged_py."""

from duoweb._tagged_py import TaggedResponder as TaggedResponder

__all__ = ["TaggedResponder"]
