"""TLS material: certificates and keys read and checked once, when the settings are, then handed to gRPC
(servers and callers) and to NATS.

Every file is checked as it is read: it exists, it is readable, it holds PEM certificates (or a PEM
private key, unencrypted), and a key belongs to its certificate. A bad one is a ConfigurationError naming
the setting, so a process stops at start instead of failing its first handshake. Nothing here prints a
key: the classes' reprs name files only.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from desk.errors import ConfigurationError

SERVER_CERT_SETTING = "HELPDESK_TLS_CERT_FILE"
SERVER_KEY_SETTING = "HELPDESK_TLS_KEY_FILE"
CLIENT_CA_SETTING = "HELPDESK_TLS_CLIENT_CA_FILE"
CALLER_SWITCH_SETTING = "HELPDESK_TLS"
CALLER_CA_SETTING = "HELPDESK_TLS_CA_FILE"
CALLER_CERT_SETTING = "HELPDESK_TLS_CLIENT_CERT_FILE"
CALLER_KEY_SETTING = "HELPDESK_TLS_CLIENT_KEY_FILE"
CALLER_SERVER_NAME_SETTING = "HELPDESK_TLS_SERVER_NAME"
NATS_CA_SETTING = "NATS_TLS_CA_FILE"
NATS_CERT_SETTING = "NATS_TLS_CERT_FILE"
NATS_KEY_SETTING = "NATS_TLS_KEY_FILE"
NATS_CREDS_SETTING = "NATS_CREDS_FILE"
_NATS_SETTINGS = (NATS_CA_SETTING, NATS_CERT_SETTING, NATS_KEY_SETTING, NATS_CREDS_SETTING)
_NATS_JWT_MARK = b"-----BEGIN NATS USER JWT-----"
_NATS_SEED_MARK = b"-----BEGIN USER NKEY SEED-----"


def _read(setting: str, path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise ConfigurationError(f"{setting}={path}: cannot be read ({error.strerror or error})") from None


def read_certificates(setting: str, path: str) -> bytes:
    """The PEM certificates in ``path`` (a chain, or a CA bundle), as read; none → the setting named."""
    data = _read(setting, path)
    try:
        x509.load_pem_x509_certificates(data)
    except ValueError:
        raise ConfigurationError(f"{setting}={path}: holds no PEM certificate") from None
    return data


@dataclass(frozen=True, repr=False)
class Identity:
    """A certificate chain and its private key: what a server, or a caller asked for one, presents."""

    cert_file: str
    key_file: str
    chain: bytes
    key: bytes

    def __repr__(self) -> str:
        return f"Identity(cert_file={self.cert_file!r}, key_file={self.key_file!r})"


def read_identity(cert: tuple[str, str | None], key: tuple[str, str | None]) -> Identity | None:
    """The certificate and key of two (setting, path) pairs: both set, or neither (None)."""
    (cert_setting, cert_path), (key_setting, key_path) = cert, key
    if not cert_path and not key_path:
        return None
    if not cert_path or not key_path:
        given, missing = (cert_setting, key_setting) if cert_path else (key_setting, cert_setting)
        raise ConfigurationError(f"{given} is set without {missing}: set both, or neither")
    chain = read_certificates(cert_setting, cert_path)
    data = _read(key_setting, key_path)
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise ConfigurationError(f"{key_setting}={key_path}: holds no unencrypted PEM private key") from None
    leaf = x509.load_pem_x509_certificates(chain)[0]
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if private.public_key().public_bytes(*spki) != leaf.public_key().public_bytes(*spki):
        raise ConfigurationError(
            f"{key_setting}={key_path} is not the key of {cert_setting}={cert_path}"
            " (the first certificate in the file)"
        )
    return Identity(cert_path, key_path, chain, data)


@dataclass(frozen=True, repr=False)
class ServerTLS:
    """TLS on the desk's gRPC servers; with ``client_ca``, mutual: a caller must present a certificate
    signed by it."""

    identity: Identity
    client_ca: bytes | None = None
    client_ca_file: str | None = None

    def __repr__(self) -> str:
        return f"ServerTLS({self.identity!r}, client_ca_file={self.client_ca_file!r})"

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(self.identity.key, self.identity.chain)],
            root_certificates=self.client_ca,
            require_client_auth=self.client_ca is not None,
        )


@dataclass(frozen=True, repr=False)
class CallerTLS:
    """How a caller (the HTTP gateway, the command line, `helpdesk up`'s probes) reaches the services
    over TLS: the roots it trusts (None: the system's), the certificate it presents if asked, and the
    name it expects on the servers' certificate when not the target's host."""

    roots: bytes | None = None
    roots_file: str | None = None
    identity: Identity | None = None
    server_name: str | None = None

    def __repr__(self) -> str:
        return (
            f"CallerTLS(roots_file={self.roots_file!r}, identity={self.identity!r},"
            f" server_name={self.server_name!r})"
        )

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.roots,
            private_key=self.identity.key if self.identity else None,
            certificate_chain=self.identity.chain if self.identity else None,
        )

    def options(self) -> list[tuple[str, Any]]:
        """Channel options: the expected server name, when set."""
        return [("grpc.ssl_target_name_override", self.server_name)] if self.server_name else []


def server_tls(env: Mapping[str, str]) -> ServerTLS | None:
    """The gRPC servers' TLS: HELPDESK_TLS_CERT_FILE and HELPDESK_TLS_KEY_FILE (both or neither), and
    HELPDESK_TLS_CLIENT_CA_FILE to require client certificates."""
    identity = read_identity(
        (SERVER_CERT_SETTING, env.get(SERVER_CERT_SETTING)), (SERVER_KEY_SETTING, env.get(SERVER_KEY_SETTING))
    )
    client_ca_file = env.get(CLIENT_CA_SETTING) or None
    if identity is None:
        if client_ca_file:
            raise ConfigurationError(
                f"{CLIENT_CA_SETTING} is set without {SERVER_CERT_SETTING} and {SERVER_KEY_SETTING}:"
                " client certificates are asked for over TLS only"
            )
        return None
    client_ca = read_certificates(CLIENT_CA_SETTING, client_ca_file) if client_ca_file else None
    return ServerTLS(identity, client_ca, client_ca_file)


def caller_tls(env: Mapping[str, str]) -> CallerTLS | None:
    """A caller's TLS: on exactly when HELPDESK_TLS=on or HELPDESK_TLS_CA_FILE is set (docs/deployment.md)."""
    switch = (env.get(CALLER_SWITCH_SETTING) or "").strip().lower()
    if switch not in ("", "on", "off"):
        raise ConfigurationError(f"{CALLER_SWITCH_SETTING}={switch!r} is neither on nor off")
    roots_file = env.get(CALLER_CA_SETTING) or None
    if switch == "off" and roots_file:
        raise ConfigurationError(f"{CALLER_SWITCH_SETTING}=off contradicts {CALLER_CA_SETTING}: unset one")
    if switch != "on" and not roots_file:
        given = (CALLER_CERT_SETTING, CALLER_KEY_SETTING, CALLER_SERVER_NAME_SETTING)
        named = [setting for setting in given if env.get(setting)]
        if named:
            raise ConfigurationError(
                f"{', '.join(named)} set while callers use no TLS: set {CALLER_CA_SETTING}"
                f" (or {CALLER_SWITCH_SETTING}=on to trust the system's roots)"
            )
        return None
    return CallerTLS(
        roots=read_certificates(CALLER_CA_SETTING, roots_file) if roots_file else None,
        roots_file=roots_file,
        identity=read_identity(
            (CALLER_CERT_SETTING, env.get(CALLER_CERT_SETTING)),
            (CALLER_KEY_SETTING, env.get(CALLER_KEY_SETTING)),
        ),
        server_name=env.get(CALLER_SERVER_NAME_SETTING) or None,
    )


@dataclass(frozen=True)
class NatsAccess:
    """How the desk proves itself to NATS beyond NATS_URL's user and password: a .creds file (JWT
    and seed) and TLS, with the roots it trusts and a client certificate if the server asks for one."""

    creds_file: str | None = None
    ca_file: str | None = None
    identity: Identity | None = None
    tls: bool = False

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.identity is not None:
            context.load_cert_chain(self.identity.cert_file, self.identity.key_file)
        return context

    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments for ``nats.connect`` (nothing when none is configured)."""
        options: dict[str, Any] = {}
        if self.tls:
            options["tls"] = self.ssl_context()
        if self.creds_file:
            options["user_credentials"] = self.creds_file
        return options


def nats_access(env: Mapping[str, str]) -> NatsAccess:
    """NATS_CREDS_FILE; TLS when NATS_TLS_CA_FILE or a client certificate (NATS_TLS_CERT_FILE and
    NATS_TLS_KEY_FILE) is set, or NATS_URL's scheme is tls:// (the system's roots)."""
    named = [setting for setting in _NATS_SETTINGS if env.get(setting)]
    if named and not env.get("NATS_URL"):
        raise ConfigurationError(
            f"{', '.join(named)} set without NATS_URL: the embedded NATS is a development server without"
            " TLS or credentials files; set NATS_URL to the NATS they are for"
        )
    creds_file = env.get(NATS_CREDS_SETTING) or None
    if creds_file:
        creds = _read(NATS_CREDS_SETTING, creds_file)
        if _NATS_JWT_MARK not in creds or _NATS_SEED_MARK not in creds:
            raise ConfigurationError(
                f"{NATS_CREDS_SETTING}={creds_file}: not a NATS credentials file (a user JWT and its seed)"
            )
    ca_file = env.get(NATS_CA_SETTING) or None
    if ca_file:
        read_certificates(NATS_CA_SETTING, ca_file)
    identity = read_identity(
        (NATS_CERT_SETTING, env.get(NATS_CERT_SETTING)), (NATS_KEY_SETTING, env.get(NATS_KEY_SETTING))
    )
    tls_url = (env.get("NATS_URL") or "").startswith("tls://")
    return NatsAccess(creds_file, ca_file, identity, tls=bool(ca_file or identity or tls_url))


_DATABASE_FILES = ("sslrootcert", "sslcert", "sslkey", "sslcrl")
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def check_database_url(setting: str, url: str) -> None:
    """The TLS parameters of a PostgreSQL URL, checked as asyncpg will use them: a known sslmode, and
    each file it names readable and PEM (sslkey the key of sslcert). The URL itself is never shown."""
    query = parse_qs(urlsplit(url).query)
    mode = (query.get("sslmode") or [""])[-1]
    if mode and mode not in SSL_MODES:
        raise ConfigurationError(f"{setting}: sslmode={mode!r} is not one of {', '.join(SSL_MODES)}")
    named = {name: (query.get(name) or [""])[-1] for name in _DATABASE_FILES}
    if named["sslcrl"]:
        _read(f"{setting} (sslcrl)", named["sslcrl"])
    if named["sslrootcert"]:
        read_certificates(f"{setting} (sslrootcert)", named["sslrootcert"])
    if named["sslcert"] or named["sslkey"]:
        read_identity((f"{setting} (sslcert)", named["sslcert"]), (f"{setting} (sslkey)", named["sslkey"]))
