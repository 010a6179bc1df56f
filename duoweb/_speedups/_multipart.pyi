"""Types of the compiled multipart parser: the same API as duoweb._multipart_py."""

from duoweb._multipart_py import MalformedMultipart as MalformedMultipart
from duoweb._multipart_py import MultipartParser as MultipartParser
from duoweb._multipart_py import PartHeadersTooLarge as PartHeadersTooLarge
from duoweb._multipart_py import TooManyParts as TooManyParts
from duoweb._multipart_py import parse_disposition as parse_disposition
from duoweb._multipart_py import parse_urlencoded as parse_urlencoded

__all__ = [
    "MalformedMultipart",
    "MultipartParser",
    "PartHeadersTooLarge",
    "TooManyParts",
    "parse_disposition",
    "parse_urlencoded",
]
