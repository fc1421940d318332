"""Production settings (docs/deployment.md): secrets from files, TLS files checked at load, the callers'
one TLS rule, NATS's and PostgreSQL's TLS; a bad one stops the desk naming the setting, and no secret is
ever shown, in the settings or in an error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.up import check_callers_reach_services
from desk.config import SECRET_SETTINGS, load_settings, secret_file_setting
from desk.errors import ConfigurationError
from desk.payload_codec import new_key
from tests.certificates import Issued, TestAuthority

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "s3cret-database-password"
DATABASE_URL = f"postgresql://desk:{PASSWORD}@db.example.com:5432/helpdesk"
NATS_PASSWORD = "s3cret-nats-password"
API_KEY = "s3cret-temporal-api-key"
PAGE_KEY = "s3cret-page-token-key-of-enough-length"
SAMPLING = "c2VjcmV0LXNhbXBsaW5nLXNlY3JldC0zMi1ieXRlcyE="
PAYLOAD_KEY = new_key()
CREDS = """-----BEGIN NATS USER JWT-----
eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2lnbmF0dXJl
------END NATS USER JWT------

-----BEGIN USER NKEY SEED-----
SUAEXAMPLESEEDFORTESTSONLYNOTAREALSEEDATALLXXXXXXXXXXXXXXXX
------END USER NKEY SEED------
"""


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> TestAuthority:
    return TestAuthority(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def server(authority: TestAuthority) -> Issued:
    return authority.issue("server", server=True)


@pytest.fixture(scope="module")
def client(authority: TestAuthority) -> Issued:
    return authority.issue("client", server=False)


def _secret_file(tmp_path: Path, name: str, value: str) -> str:
    path = tmp_path / name
    path.write_text(value + "\n")  # as `echo` or a Kubernetes secret written by hand leaves it
    return str(path)


# --- secrets from files --------------------------------------------------------------------------------


def test_every_secret_setting_is_read_from_its_file_without_the_trailing_newline(tmp_path: Path) -> None:
    values = {
        "DATABASE_URL": DATABASE_URL,
        "NATS_URL": f"nats://desk:{NATS_PASSWORD}@nats.example.com:4222",
        "TEMPORAL_API_KEY": API_KEY,
        "HELPDESK_PAYLOAD_KEYS": f"current:{PAYLOAD_KEY}",
        "HELPDESK_PAYLOAD_KEY": PAYLOAD_KEY,
        "HELPDESK_QUALITY_SAMPLING_SECRET": SAMPLING,
        "HELPDESK_PAGE_TOKEN_KEY": PAGE_KEY,
    }
    assert set(values) == set(SECRET_SETTINGS)
    env = {secret_file_setting(name): _secret_file(tmp_path, name, value) for name, value in values.items()}
    settings = load_settings({**env, "TEMPORAL_ADDRESS": "temporal.example.com:7233"})
    assert settings.database_url == DATABASE_URL
    assert settings.nats_url == values["NATS_URL"]
    assert settings.temporal_access.api_key == API_KEY
    assert settings.payload_ring is not None and settings.payload_ring.current == settings.payload_key
    assert settings.quality_sampling_secret == b"secret-sampling-secret-32-bytes!"
    assert settings.page_token_key == PAGE_KEY.encode()


def test_a_secret_given_twice_is_refused_naming_both(tmp_path: Path) -> None:
    env = {"DATABASE_URL": DATABASE_URL, "DATABASE_URL_FILE": _secret_file(tmp_path, "db", DATABASE_URL)}
    with pytest.raises(ConfigurationError, match="DATABASE_URL and DATABASE_URL_FILE are both set") as error:
        load_settings(env)
    assert PASSWORD not in str(error.value)


@pytest.mark.parametrize("content", [None, ""])
def test_a_missing_or_empty_secret_file_is_refused_naming_the_setting(
    tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "page-token-key"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigurationError, match=f"HELPDESK_PAGE_TOKEN_KEY_FILE={path}"):
        load_settings({"HELPDESK_PAGE_TOKEN_KEY_FILE": str(path)})


def test_an_unreadable_secret_file_is_refused_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"TEMPORAL_API_KEY_FILE=.*cannot be read"):
        load_settings({"TEMPORAL_API_KEY_FILE": str(tmp_path)})  # a directory: no text to read


# --- nothing printed -----------------------------------------------------------------------------------


def test_the_settings_show_no_secret(tmp_path: Path, authority: TestAuthority, client: Issued) -> None:
    nats_url = f"nats://desk:{NATS_PASSWORD}@nats.example.com:4222"
    settings = load_settings(
        {
            "DATABASE_URL": DATABASE_URL,
            "NATS_URL": nats_url,
            "TEMPORAL_ADDRESS": "temporal.example.com:7233",
            "TEMPORAL_API_KEY": API_KEY,
            "TEMPORAL_TLS_CLIENT_CERT_PATH": str(client.cert_file),
            "TEMPORAL_TLS_CLIENT_KEY_PATH": str(client.key_file),
            "HELPDESK_PAYLOAD_KEY": PAYLOAD_KEY,
            "HELPDESK_QUALITY_SAMPLING_SECRET": SAMPLING,
            "HELPDESK_PAGE_TOKEN_KEY": PAGE_KEY,
            "HELPDESK_TLS_CA_FILE": str(authority.ca_file),
            "HELPDESK_TLS_CLIENT_CERT_FILE": str(client.cert_file),
            "HELPDESK_TLS_CLIENT_KEY_FILE": str(client.key_file),
        }
    )
    shown = repr(settings) + str(settings)
    key_text = client.key_file.read_text()
    key_body = "".join(key_text.splitlines()[1:-1])
    for secret in (PASSWORD, NATS_PASSWORD, API_KEY, PAGE_KEY, SAMPLING, PAYLOAD_KEY, key_body[:40]):
        assert secret not in shown
    assert "postgresql://desk:***@db.example.com:5432/helpdesk" in shown  # where it goes, still said
    assert str(client.key_file) in shown  # the file named, not its content


def test_an_error_about_the_database_url_does_not_show_its_password(tmp_path: Path) -> None:
    for query in ("sslmode=verify-everything", f"sslmode=verify-full&sslrootcert={tmp_path / 'none.pem'}"):
        with pytest.raises(ConfigurationError, match="DATABASE_URL") as error:
            load_settings({"DATABASE_URL": f"{DATABASE_URL}?{query}"})
        assert PASSWORD not in str(error.value)


# --- the gRPC servers' TLS -----------------------------------------------------------------------------


def test_server_tls_reads_the_certificate_key_and_client_ca(authority: TestAuthority, server: Issued) -> None:
    settings = load_settings(
        {
            "HELPDESK_TLS_CERT_FILE": str(server.cert_file),
            "HELPDESK_TLS_KEY_FILE": str(server.key_file),
            "HELPDESK_TLS_CLIENT_CA_FILE": str(authority.ca_file),
        }
    )
    tls = settings.grpc_server_tls
    assert tls is not None
    assert tls.identity.chain == server.cert_file.read_bytes()
    assert tls.client_ca == authority.ca_file.read_bytes()
    assert load_settings({}).grpc_server_tls is None  # the embedded default: plaintext on 127.0.0.1


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"HELPDESK_TLS_CERT_FILE": "server"}, "HELPDESK_TLS_CERT_FILE is set without HELPDESK_TLS_KEY_FILE"),
        (
            {"HELPDESK_TLS_KEY_FILE": "server.key"},
            "HELPDESK_TLS_KEY_FILE is set without HELPDESK_TLS_CERT_FILE",
        ),
        (
            {"HELPDESK_TLS_CERT_FILE": "missing", "HELPDESK_TLS_KEY_FILE": "server.key"},
            "HELPDESK_TLS_CERT_FILE=.*missing: cannot be read",
        ),
        (
            {"HELPDESK_TLS_CERT_FILE": "server.key", "HELPDESK_TLS_KEY_FILE": "server.key"},
            "HELPDESK_TLS_CERT_FILE=.*server.key: holds no PEM certificate",
        ),
        (
            {"HELPDESK_TLS_CERT_FILE": "server", "HELPDESK_TLS_KEY_FILE": "server"},
            "HELPDESK_TLS_KEY_FILE=.*server.pem: holds no unencrypted PEM private key",
        ),
        (
            {"HELPDESK_TLS_CERT_FILE": "server", "HELPDESK_TLS_KEY_FILE": "client.key"},
            "HELPDESK_TLS_KEY_FILE=.*client.key is not the key of HELPDESK_TLS_CERT_FILE",
        ),
        (
            {
                "HELPDESK_TLS_CERT_FILE": "server",
                "HELPDESK_TLS_KEY_FILE": "server.key",
                "HELPDESK_TLS_CLIENT_CA_FILE": "server.key",
            },
            "HELPDESK_TLS_CLIENT_CA_FILE=.*server.key: holds no PEM certificate",
        ),
        (
            {"HELPDESK_TLS_CLIENT_CA_FILE": "ca"},
            "HELPDESK_TLS_CLIENT_CA_FILE is set without HELPDESK_TLS_CERT_FILE",
        ),
    ],
)
def test_a_bad_server_tls_setting_is_refused_naming_it(
    authority: TestAuthority, server: Issued, client: Issued, given: dict[str, str], message: str
) -> None:
    files = {
        "server": server.cert_file,
        "server.key": server.key_file,
        "client.key": client.key_file,
        "ca": authority.ca_file,
        "missing": authority.directory / "missing",
    }
    with pytest.raises(ConfigurationError, match=message):
        load_settings({name: str(files[value]) for name, value in given.items()})


# --- the callers' TLS: one rule --------------------------------------------------------------------------


def test_callers_use_tls_exactly_when_a_ca_file_is_set_or_tls_is_on(
    authority: TestAuthority, client: Issued
) -> None:
    assert load_settings({}).grpc_caller_tls is None
    assert load_settings({"HELPDESK_TLS": "off"}).grpc_caller_tls is None
    system_roots = load_settings({"HELPDESK_TLS": "on"}).grpc_caller_tls
    assert system_roots is not None and system_roots.roots is None and system_roots.identity is None
    own_roots = load_settings(
        {
            "HELPDESK_TLS_CA_FILE": str(authority.ca_file),
            "HELPDESK_TLS_CLIENT_CERT_FILE": str(client.cert_file),
            "HELPDESK_TLS_CLIENT_KEY_FILE": str(client.key_file),
            "HELPDESK_TLS_SERVER_NAME": "intake.desk.internal",
        }
    ).grpc_caller_tls
    assert own_roots is not None and own_roots.roots == authority.ca_file.read_bytes()
    assert own_roots.identity is not None and own_roots.identity.cert_file == str(client.cert_file)
    assert own_roots.options() == [("grpc.ssl_target_name_override", "intake.desk.internal")]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HELPDESK_TLS": "yes"}, "HELPDESK_TLS='yes' is neither on nor off"),
        (
            {"HELPDESK_TLS": "off", "HELPDESK_TLS_CA_FILE": "x"},
            "HELPDESK_TLS=off contradicts HELPDESK_TLS_CA_FILE",
        ),
        ({"HELPDESK_TLS_SERVER_NAME": "intake"}, "HELPDESK_TLS_SERVER_NAME set while callers use no TLS"),
        (
            {"HELPDESK_TLS_CLIENT_CERT_FILE": "x"},
            "HELPDESK_TLS_CLIENT_CERT_FILE set while callers use no TLS",
        ),
        (
            {"HELPDESK_TLS": "on", "HELPDESK_TLS_CLIENT_CERT_FILE": "x"},
            "set without HELPDESK_TLS_CLIENT_KEY_FILE",
        ),
        (
            {"HELPDESK_TLS_CA_FILE": "/nonexistent/ca.pem"},
            "HELPDESK_TLS_CA_FILE=/nonexistent/ca.pem: cannot be read",
        ),
    ],
)
def test_a_bad_caller_tls_setting_is_refused_naming_it(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_settings(env)


def test_up_refuses_callers_that_could_not_reach_its_services(
    authority: TestAuthority, server: Issued, client: Issued
) -> None:
    served = {"HELPDESK_TLS_CERT_FILE": str(server.cert_file), "HELPDESK_TLS_KEY_FILE": str(server.key_file)}
    mutual = {**served, "HELPDESK_TLS_CLIENT_CA_FILE": str(authority.ca_file)}
    trusting = {"HELPDESK_TLS_CA_FILE": str(authority.ca_file)}
    presenting = {
        **trusting,
        "HELPDESK_TLS_CLIENT_CERT_FILE": str(client.cert_file),
        "HELPDESK_TLS_CLIENT_KEY_FILE": str(client.key_file),
    }
    for env, message in [
        (served, "set HELPDESK_TLS_CA_FILE"),
        ({**mutual, **trusting}, "set HELPDESK_TLS_CLIENT_CERT_FILE"),
        (trusting, "set HELPDESK_TLS_CERT_FILE and HELPDESK_TLS_KEY_FILE"),
    ]:
        with pytest.raises(ConfigurationError, match=message):
            check_callers_reach_services(load_settings(env))
    for env in ({}, {**served, **trusting}, {**mutual, **presenting}):
        check_callers_reach_services(load_settings(env))


# --- NATS ----------------------------------------------------------------------------------------------


def test_nats_credentials_and_tls_are_read(tmp_path: Path, authority: TestAuthority, client: Issued) -> None:
    creds = tmp_path / "desk.creds"
    creds.write_text(CREDS)
    access = load_settings(
        {
            "NATS_URL": "nats://nats.example.com:4222",
            "NATS_CREDS_FILE": str(creds),
            "NATS_TLS_CA_FILE": str(authority.ca_file),
            "NATS_TLS_CERT_FILE": str(client.cert_file),
            "NATS_TLS_KEY_FILE": str(client.key_file),
        }
    ).nats_access
    options = access.connect_options()
    assert options["user_credentials"] == str(creds)
    assert options["tls"].verify_mode.name == "CERT_REQUIRED" and options["tls"].check_hostname
    assert load_settings({"NATS_URL": "nats://n:4222"}).nats_access.connect_options() == {}
    assert load_settings({"NATS_URL": "tls://n:4222"}).nats_access.tls  # the system's roots


@pytest.mark.parametrize(
    ("setting", "content", "message"),
    [
        ("NATS_CREDS_FILE", "nats://user:password@host", "NATS_CREDS_FILE=.*not a NATS credentials file"),
        ("NATS_CREDS_FILE", None, "NATS_CREDS_FILE=.*cannot be read"),
        ("NATS_TLS_CA_FILE", "not a certificate", "NATS_TLS_CA_FILE=.*holds no PEM certificate"),
        ("NATS_TLS_CERT_FILE", "x", "NATS_TLS_CERT_FILE is set without NATS_TLS_KEY_FILE"),
    ],
)
def test_a_bad_nats_setting_is_refused_naming_it(
    tmp_path: Path, setting: str, content: str | None, message: str
) -> None:
    path = tmp_path / "file"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigurationError, match=message):
        load_settings({"NATS_URL": "nats://nats.example.com:4222", setting: str(path)})


def test_nats_tls_without_nats_url_is_refused(authority: TestAuthority) -> None:
    with pytest.raises(ConfigurationError, match="NATS_TLS_CA_FILE set without NATS_URL"):
        load_settings({"NATS_TLS_CA_FILE": str(authority.ca_file)})


# --- PostgreSQL ----------------------------------------------------------------------------------------


def test_the_database_urls_tls_files_are_checked(authority: TestAuthority, client: Issued) -> None:
    good = (
        f"{DATABASE_URL}?sslmode=verify-full&sslrootcert={authority.ca_file}"
        f"&sslcert={client.cert_file}&sslkey={client.key_file}"
    )
    assert load_settings({"DATABASE_URL": good}).database_url == good
    crossed = f"{DATABASE_URL}?sslmode=verify-full&sslcert={client.cert_file}&sslkey={authority.ca_file}"
    with pytest.raises(ConfigurationError, match=r"DATABASE_URL \(sslkey\)=.*holds no unencrypted PEM"):
        load_settings({"DATABASE_URL": crossed})
    with pytest.raises(ConfigurationError, match=r"DATABASE_URL: sslmode='on' is not one of disable"):
        load_settings({"DATABASE_URL": f"{DATABASE_URL}?sslmode=on"})


# --- a bad setting stops the process at start ------------------------------------------------------------


def _serve_intake(data_dir: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """`helpdesk serve intake` with ``settings`` only (none of this shell's desk or NATS settings)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HELPDESK_", "NATS_"))}
    env.update(HELPDESK_DATA_DIR=str(data_dir), **settings)
    return subprocess.run(
        [sys.executable, "-m", "cli", "serve", "intake"],
        check=False,
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_service_with_a_missing_tls_file_exits_at_start_naming_the_setting(tmp_path: Path) -> None:
    done = _serve_intake(
        tmp_path,
        HELPDESK_TLS_CERT_FILE=str(tmp_path / "server.pem"),
        HELPDESK_TLS_KEY_FILE=str(tmp_path / "server.key"),
    )
    assert done.returncode == 1
    assert f"HELPDESK_TLS_CERT_FILE={tmp_path / 'server.pem'}: cannot be read" in done.stderr
    assert not (tmp_path / "logs").exists() and not (tmp_path / "spans").exists()  # nothing began


def test_a_production_service_on_the_network_without_tls_exits_at_start(tmp_path: Path) -> None:
    done = _serve_intake(tmp_path, HELPDESK_MODE="production", HELPDESK_HOST="0.0.0.0")
    assert done.returncode == 1
    assert "HELPDESK_HOST=0.0.0.0 (not loopback), but HELPDESK_TLS_CERT_FILE is not set" in done.stderr
    assert "HELPDESK_GRPC_PLAINTEXT_REASON" in done.stderr  # the way out, where TLS is terminated elsewhere
    assert not (tmp_path / "logs").exists() and not (tmp_path / "spans").exists()  # nothing began


# --- production services on the network serve TLS, or say what protects them --------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.3.7", "::", "helpdesk.example.com"])
def test_production_refuses_plaintext_grpc_beyond_loopback(host: str) -> None:
    settings = load_settings({"HELPDESK_MODE": "production", "HELPDESK_HOST": host})
    with pytest.raises(ConfigurationError, match=f"HELPDESK_HOST={host} .*HELPDESK_TLS_CERT_FILE is not set"):
        settings.require_transport_security()


@pytest.mark.parametrize(
    "env",
    [
        {"HELPDESK_MODE": "production"},  # 127.0.0.1
        {"HELPDESK_MODE": "production", "HELPDESK_HOST": "localhost"},
        {"HELPDESK_MODE": "production", "HELPDESK_HOST": "::1"},
        {"HELPDESK_MODE": "production", "HELPDESK_HOST": "127.0.0.2"},
        {"HELPDESK_HOST": "0.0.0.0"},  # development
        {
            "HELPDESK_MODE": "production",
            "HELPDESK_HOST": "0.0.0.0",
            "HELPDESK_GRPC_PLAINTEXT_REASON": "Linkerd mTLS sidecars",
        },
    ],
)
def test_plaintext_grpc_is_let_through_on_loopback_in_development_or_when_protected(
    env: dict[str, str],
) -> None:
    load_settings(env).require_transport_security()


def test_production_on_the_network_serves_with_its_certificate(server: Issued) -> None:
    settings = load_settings(
        {
            "HELPDESK_MODE": "production",
            "HELPDESK_HOST": "0.0.0.0",
            "HELPDESK_TLS_CERT_FILE": str(server.cert_file),
            "HELPDESK_TLS_KEY_FILE": str(server.key_file),
        }
    )
    settings.require_transport_security()
    assert settings.grpc_server_tls is not None and settings.grpc_plaintext_reason is None


def test_a_plaintext_reason_beside_a_server_certificate_is_refused(server: Issued) -> None:
    served = {"HELPDESK_TLS_CERT_FILE": str(server.cert_file), "HELPDESK_TLS_KEY_FILE": str(server.key_file)}
    with pytest.raises(ConfigurationError, match=r"HELPDESK_GRPC_PLAINTEXT_REASON .*HELPDESK_TLS_CERT_FILE"):
        load_settings({**served, "HELPDESK_GRPC_PLAINTEXT_REASON": "a mesh"})
