"""The transport's own asyncio network stream: keep-alive, TLS, reconnects, timeouts, errors."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from pathlib import Path

import httpx
import pytest

from evals.models.connection import OneConnection


def _cert(tmp: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cryptography is already installed with the test deps)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    c, k = tmp / "cert.pem", tmp / "key.pem"
    c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    k.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return c, k


async def _server(
    handler_close: bool = False, delay: float = 0.0, ssl_ctx: ssl.SSLContext | None = None
) -> tuple[asyncio.Server, int, list[int]]:
    """A tiny HTTP/1.1 server: answers every request with its own connection number."""
    conns: list[int] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conns.append(len(conns) + 1)
        me = len(conns)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                await asyncio.sleep(delay)
                body = f"conn {me}".encode()
                close = b"Connection: close\r\n" if handler_close else b""
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), close, body))
                await writer.drain()
                if handler_close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0, ssl=ssl_ctx)
    return server, server.sockets[0].getsockname()[1], conns


def test_requests_share_one_keep_alive_connection():
    async def go() -> list[str]:
        server, port, conns = await _server()
        async with server, httpx.AsyncClient(transport=OneConnection()) as client:
            out = [(await client.post(f"http://127.0.0.1:{port}/", content=b"{}")).text for _ in range(3)]
        assert conns == [1]
        return out

    assert asyncio.run(go()) == ["conn 1"] * 3


def test_a_connection_the_server_closed_is_replaced():
    async def go() -> list[str]:
        server, port, conns = await _server(handler_close=True)
        async with server, httpx.AsyncClient(transport=OneConnection()) as client:
            out = []
            for _ in range(3):
                out.append((await client.get(f"http://127.0.0.1:{port}/")).text)
                await asyncio.sleep(0.01)  # the close reaches the client
        return out

    assert asyncio.run(go()) == ["conn 1", "conn 2", "conn 3"]


def test_tls_through_the_shared_context(tmp_path):
    cert, key = _cert(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))

    async def go() -> list[str]:
        server, port, conns = await _server(ssl_ctx=server_ctx)
        async with server, httpx.AsyncClient(transport=OneConnection(client_ctx)) as client:
            out = [(await client.get(f"https://127.0.0.1:{port}/")).text for _ in range(2)]
        assert conns == [1]
        return out

    assert asyncio.run(go()) == ["conn 1", "conn 1"]


def test_an_untrusted_certificate_is_a_connect_error(tmp_path):
    cert, key = _cert(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)

    async def go() -> None:
        server, port, _ = await _server(ssl_ctx=server_ctx)
        async with server, httpx.AsyncClient(transport=OneConnection(ssl.create_default_context())) as client:
            await client.get(f"https://127.0.0.1:{port}/")

    with pytest.raises(httpx.ConnectError):
        asyncio.run(go())


def test_a_slow_answer_is_a_read_timeout_and_a_refused_port_a_connect_error():
    async def slow() -> None:
        server, port, _ = await _server(delay=1.0)
        async with server, httpx.AsyncClient(transport=OneConnection(), timeout=0.1) as client:
            await client.get(f"http://127.0.0.1:{port}/")

    with pytest.raises(httpx.ReadTimeout):
        asyncio.run(slow())

    async def refused() -> None:
        server, port, _ = await _server()
        server.close()
        await server.wait_closed()
        async with httpx.AsyncClient(transport=OneConnection()) as client:
            await client.get(f"http://127.0.0.1:{port}/")

    with pytest.raises(httpx.ConnectError):
        asyncio.run(refused())
