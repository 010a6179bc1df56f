"""RSA keys and a JWKS document served on 127.0.0.1 by http.server, for JWT tests (no network).

Import it only after checking that PyJWT and cryptography are installed.
"""

from __future__ import annotations

import http.server
import json
import threading
from typing import Any

import jwt as pyjwt
from cryptography.hazmat.primitives.asymmetric import rsa


class KeyServer:
    """A JWKS document served by http.server on 127.0.0.1; counts the fetches."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.fetches = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                body = json.dumps(owner.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def rsa_jwk(kid: str) -> tuple[Any, dict[str, Any]]:
    """A new RSA private key and the public JWK naming it ``kid``."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public: dict[str, Any] = json.loads(pyjwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    public.update(kid=kid, alg="RS256", use="sig")
    return private, public
