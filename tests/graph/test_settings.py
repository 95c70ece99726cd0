"""Graph settings and the mode switch: nothing → local; everything → msgraph; half → one error naming the gaps."""

from __future__ import annotations

import datetime as dt

import pytest

from graph import GraphConfigError, build_backend
from graph.local import LocalBackend
from graph.msgraph import MsGraphBackend
from graph.msgraph.client import build_credential
from graph.settings import GraphSettings, load_graph_settings

COMPLETE = dict(
    GRAPH_TENANT_ID="11111111-1111-4111-8111-111111111111",
    GRAPH_CLIENT_ID="22222222-2222-4222-8222-222222222222",
    GRAPH_CLIENT_SECRET="s3cret",
    GRAPH_TEAM_ID="team-guid",
    GRAPH_SAFEGUARDING_CHANNEL_ID="19:abc@thread.tacv2",
    GRAPH_TEAMS_APP_ID="catalog-app-id",
)


@pytest.fixture
def env(monkeypatch):
    """Settings read from exactly these GRAPH_* environment variables (and no .env file)."""
    import os

    def set_(**values):
        for k in list(os.environ):
            if k.startswith("GRAPH_"):
                monkeypatch.delenv(k)
        for k, v in values.items():
            monkeypatch.setenv(k, v)
        return GraphSettings(_env_file=None)

    return set_


def test_nothing_set_means_local(env, school):
    s = env()
    assert s.mode(team_id="kb-team") == "local"


def test_complete_settings_from_the_environment_mean_msgraph(env):
    s = env(**COMPLETE)
    assert s.mode() == "msgraph" and s.credential_kind() == "secret"
    assert s.client_secret.get_secret_value() == "s3cret" and "s3cret" not in repr(s)
    assert s.api_root == "https://graph.microsoft.com/v1.0"


@pytest.mark.parametrize(
    "drop,named",
    [
        ("GRAPH_CLIENT_SECRET", "GRAPH_CLIENT_SECRET, GRAPH_CERTIFICATE_PATH or GRAPH_USE_MANAGED_IDENTITY"),
        ("GRAPH_TENANT_ID", "GRAPH_TENANT_ID"),
        ("GRAPH_CLIENT_ID", "GRAPH_CLIENT_ID"),
        ("GRAPH_SAFEGUARDING_CHANNEL_ID", "GRAPH_SAFEGUARDING_CHANNEL_ID"),
        ("GRAPH_TEAMS_APP_ID", "GRAPH_TEAMS_APP_ID"),
    ],
)
def test_half_configured_names_what_is_missing(env, drop, named):
    s = env(**{k: v for k, v in COMPLETE.items() if k != drop})
    with pytest.raises(GraphConfigError) as info:
        s.mode()
    assert named in str(info.value)


def test_tenant_and_client_only_lists_every_gap_at_once(env):
    s = env(GRAPH_TENANT_ID="t", GRAPH_CLIENT_ID="c")
    with pytest.raises(GraphConfigError) as info:
        s.mode()
    msg = str(info.value)
    for name in ("GRAPH_CLIENT_SECRET", "GRAPH_TEAM_ID", "GRAPH_SAFEGUARDING_CHANNEL_ID", "GRAPH_TEAMS_APP_ID"):
        assert name in msg


def test_school_config_supplies_team_and_channel(env):
    s = env(**{k: v for k, v in COMPLETE.items() if k not in ("GRAPH_TEAM_ID", "GRAPH_SAFEGUARDING_CHANNEL_ID")})
    assert s.mode(team_id="from-school", channel_id="19:from-school@thread.tacv2") == "msgraph"


def test_two_credentials_is_an_error(env, tmp_path):
    cert = tmp_path / "app.pem"
    cert.write_text("x")
    s = env(**COMPLETE, GRAPH_CERTIFICATE_PATH=str(cert))
    with pytest.raises(GraphConfigError, match="exactly one credential"):
        s.mode()


def test_missing_certificate_file_is_named(env, tmp_path):
    s = env(
        **{k: v for k, v in COMPLETE.items() if k != "GRAPH_CLIENT_SECRET"},
        GRAPH_CERTIFICATE_PATH=str(tmp_path / "nope.pem"),
    )
    with pytest.raises(GraphConfigError, match="nope.pem, which does not exist"):
        s.mode()


def test_managed_identity_needs_no_secret_or_tenant(env):
    s = env(
        GRAPH_USE_MANAGED_IDENTITY="true", GRAPH_TEAM_ID="t", GRAPH_SAFEGUARDING_CHANNEL_ID="c", GRAPH_TEAMS_APP_ID="a"
    )
    assert s.mode() == "msgraph" and s.credential_kind() == "managed_identity"


@pytest.mark.parametrize(
    "key,value,fragment",
    [
        ("GRAPH_BASE_URL", "http://graph.example.org", "https"),
        ("GRAPH_UPLOAD_CHUNK_BYTES", "1000000", "320 KiB"),
        ("GRAPH_TIMEOUT_SECONDS", "0", "GRAPH_TIMEOUT_SECONDS"),
    ],
)
def test_malformed_values_are_one_error_naming_the_setting(env, monkeypatch, key, value, fragment):
    env()
    monkeypatch.setenv(key, value)
    with pytest.raises(GraphConfigError, match=fragment):
        load_graph_settings(_env_file=None)


def test_base_url_accepts_the_loopback_double_and_strips_the_version(env):
    s = GraphSettings(_env_file=None, base_url="http://127.0.0.1:8123/v1.0/")
    assert s.api_root == "http://127.0.0.1:8123/v1.0"


def _self_signed_pem(path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "supervision-bot")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        + cert.public_bytes(serialization.Encoding.PEM)
    )


async def test_each_credential_kind_builds_the_matching_azure_identity_credential(env, tmp_path):
    from azure.identity.aio import CertificateCredential, ClientSecretCredential, ManagedIdentityCredential

    cred = build_credential(env(**COMPLETE))
    assert isinstance(cred, ClientSecretCredential)
    await cred.close()
    pem = tmp_path / "app.pem"
    _self_signed_pem(pem)
    no_secret = {k: v for k, v in COMPLETE.items() if k != "GRAPH_CLIENT_SECRET"}
    cred = build_credential(env(**no_secret, GRAPH_CERTIFICATE_PATH=str(pem)))
    assert isinstance(cred, CertificateCredential)
    await cred.close()
    cred = build_credential(GraphSettings(_env_file=None, use_managed_identity=True))
    assert isinstance(cred, ManagedIdentityCredential)
    await cred.close()


def test_an_unreadable_certificate_is_a_config_error(env, tmp_path):
    pem = tmp_path / "broken.pem"
    pem.write_text("not a certificate")
    no_secret = {k: v for k, v in COMPLETE.items() if k != "GRAPH_CLIENT_SECRET"}
    with pytest.raises(GraphConfigError, match="cannot load the certificate"):
        build_credential(env(**no_secret, GRAPH_CERTIFICATE_PATH=str(pem)))


async def test_factory_picks_the_backend(env, school, sqlite_db, tmp_path):
    local = build_backend(env(), db=sqlite_db, school=school, local_dir=tmp_path / "m365")
    assert isinstance(local, LocalBackend) and local.mode == "local"
    await local.close()
    remote = build_backend(env(**COMPLETE), db=sqlite_db, school=school, local_dir=tmp_path / "m365")
    assert isinstance(remote, MsGraphBackend) and remote.mode == "msgraph"
    assert remote.channel_files.channel_id == "19:abc@thread.tacv2"
    await remote.close()
    with pytest.raises(GraphConfigError):
        build_backend(env(GRAPH_TENANT_ID="t"), db=sqlite_db, school=school, local_dir=tmp_path / "m365")


def test_a_configured_channel_folder_replaces_team_and_channel(env):
    base = {k: v for k, v in COMPLETE.items() if k not in ("GRAPH_TEAM_ID", "GRAPH_SAFEGUARDING_CHANNEL_ID")}
    assert env(**base, GRAPH_CHANNEL_DRIVE_ID="b!drive", GRAPH_CHANNEL_FOLDER_ID="01ITEM").mode() == "msgraph"
    with pytest.raises(GraphConfigError, match="both GRAPH_CHANNEL_DRIVE_ID and GRAPH_CHANNEL_FOLDER_ID"):
        env(**base, GRAPH_CHANNEL_DRIVE_ID="b!drive").mode()
