"""A small JSON REST client for kube-apiserver (urllib3, thread-safe pool).

The harness uses it instead of the generated ``kubernetes`` client models:
it is much cheaper per request (no model (de)serialisation), which matters
when thousands of Nodes are created. Tests are free to use the official
``kubernetes`` client with the generated kubeconfig.
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import urllib3
import yaml


class ApiError(RuntimeError):
    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        self.status = status
        self.body = body
        reason = body
        with contextlib.suppress(ValueError, AttributeError):
            reason = json.loads(body).get("message", body)
        super().__init__(f"{method} {path}: HTTP {status}: {reason[:500]}")


def _token_of(user: dict[str, Any]) -> str | None:
    if user.get("token"):
        return str(user["token"])
    if user.get("tokenFile"):
        return Path(str(user["tokenFile"])).read_text().strip()
    return None


class Rest:
    """JSON over HTTPS with an x509 client certificate or a bearer token."""

    def __init__(
        self,
        server: str,
        *,
        ca_file: str,
        cert_file: str | None = None,
        key_file: str | None = None,
        pool_size: int = 8,
        timeout: float = 30.0,
        token: str | None = None,
    ) -> None:
        self.server = server.rstrip("/")
        self._token = token
        self._tmpdir: Path | None = None
        self.pool = urllib3.PoolManager(
            num_pools=2,
            maxsize=pool_size,
            block=True,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_file,
            cert_file=cert_file,
            key_file=key_file,
            timeout=urllib3.Timeout(total=timeout),
            retries=False,
        )

    @classmethod
    def from_kubeconfig(cls, path: Path | str, *, pool_size: int = 8, context: str | None = None) -> Rest:
        """Build from a kubeconfig (the one :mod:`controlplane` writes or a user's): client
        certificates as files or ``*-data``, or a bearer ``token`` / ``tokenFile``; ``context``
        defaults to the ``current-context``."""
        cfg = yaml.safe_load(Path(path).read_text())
        ctx_name = context or cfg["current-context"]
        ctx = next(c["context"] for c in cfg["contexts"] if c["name"] == ctx_name)
        cluster = next(c["cluster"] for c in cfg["clusters"] if c["name"] == ctx["cluster"])
        user = next(u["user"] for u in cfg["users"] if u["name"] == ctx["user"])
        tmp: Path | None = None

        def file_of(section: dict[str, Any], key: str) -> str | None:
            nonlocal tmp
            if section.get(key):
                return str(section[key])
            data = section.get(key + "-data")
            if not data:
                return None
            if tmp is None:
                tmp = Path(tempfile.mkdtemp(prefix="hypertopo-kubeconfig-"))
            f = tmp / key
            f.write_bytes(base64.b64decode(data))
            f.chmod(0o600)
            return str(f)

        ca = file_of(cluster, "certificate-authority")
        if ca is None:
            raise ValueError(f"{path}: the cluster has no certificate-authority(-data)")
        rest = cls(
            cluster["server"],
            ca_file=ca,
            cert_file=file_of(user, "client-certificate"),
            key_file=file_of(user, "client-key"),
            pool_size=pool_size,
            token=_token_of(user),
        )
        rest._tmpdir = tmp  # removed by close()
        return rest

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        ok: tuple[int, ...] = (200, 201, 202),
        raw: bool = False,
    ) -> Any:
        data = None
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        r = self.pool.request(method, self.server + path, body=data, headers=headers)
        text = r.data.decode("utf-8", "replace")
        if r.status not in ok:
            raise ApiError(method, path, r.status, text)
        if raw:
            return text
        return json.loads(text) if text else None

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def get_or_none(self, path: str) -> Any:
        try:
            return self.request("GET", path)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, body)

    def merge_patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, body, content_type="application/merge-patch+json")

    def delete(self, path: str, *, grace_period_seconds: int | None = None) -> Any:
        body = None
        if grace_period_seconds is not None:
            body = {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": grace_period_seconds}
        return self.request("DELETE", path, body, ok=(200, 202, 404))

    def close(self) -> None:
        self.pool.clear()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
