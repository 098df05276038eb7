"""Reading accounts from the TOML file and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from kosmo_clicksend.config import load_config
from kosmo_clicksend.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_two_accounts_and_time_zone(tmp_path):
    path = write(
        tmp_path,
        'time_zone = "Australia/Sydney"\n[accounts.default]\nusername = "a@example.com"\napi_key = "K1"\n'
        '[accounts.work]\nusername = "w"\napi_key = "K2"\n',
    )
    config = load_config(path, environ={})
    assert config.aliases == ["default", "work"]
    assert config.accounts["work"].username == "w"
    assert config.time_zone == "Australia/Sydney"


def test_missing_default_file_means_no_accounts(tmp_path):
    config = load_config(None, environ={})
    assert config.accounts == {}


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml", environ={})


def test_config_env_variable_names_the_file(tmp_path):
    path = write(tmp_path, '[accounts.default]\nusername = "u"\napi_key = "k"\n')
    config = load_config(None, environ={"KOSMO_CLICKSEND_CONFIG": str(path)})
    assert config.accounts["default"].username == "u"


def test_environment_credentials_override_default(tmp_path):
    path = write(tmp_path, '[accounts.default]\nusername = "file-user"\napi_key = "k"\n')
    config = load_config(path, environ={"CLICKSEND_USERNAME": "env-user", "CLICKSEND_API_KEY": "env-key"})
    assert config.accounts["default"].username == "env-user"


def test_username_without_key_in_environment_is_an_error():
    with pytest.raises(ConfigError, match="set CLICKSEND_API_KEY too"):
        load_config(None, environ={"CLICKSEND_USERNAME": "u"})


def test_api_key_env_reads_the_variable(tmp_path):
    path = write(tmp_path, '[accounts.work]\nusername = "w"\napi_key_env = "WORK_KEY"\n')
    config = load_config(path, environ={"WORK_KEY": "from-env"})
    assert config.accounts["work"].api_key == "from-env"


def test_api_key_env_unset_is_an_error(tmp_path):
    path = write(tmp_path, '[accounts.work]\nusername = "w"\napi_key_env = "WORK_KEY"\n')
    with pytest.raises(ConfigError, match="WORK_KEY"):
        load_config(path, environ={})


def test_both_key_forms_is_an_error(tmp_path):
    path = write(tmp_path, '[accounts.work]\nusername = "w"\napi_key = "k"\napi_key_env = "X"\n')
    with pytest.raises(ConfigError, match="not both"):
        load_config(path, environ={})


def test_unknown_account_key_is_an_error(tmp_path):
    path = write(tmp_path, '[accounts.work]\nusername = "w"\napi_key = "k"\npasword = "x"\n')
    with pytest.raises(ConfigError, match="pasword"):
        load_config(path, environ={})


@pytest.mark.parametrize("alias", ["my-work", "clicksend", "1st"])
def test_alias_must_be_a_lua_name(tmp_path, alias):
    path = write(tmp_path, f'[accounts."{alias}"]\nusername = "w"\napi_key = "k"\n')
    with pytest.raises(ConfigError, match="alias"):
        load_config(path, environ={})


def test_unknown_time_zone_is_an_error(tmp_path):
    path = write(tmp_path, 'time_zone = "Mars/Base"\n')
    with pytest.raises(ConfigError, match="Mars/Base"):
        load_config(path, environ={})


def test_misspelt_top_level_key_is_an_error(tmp_path):
    path = write(tmp_path, "max-spend = 0.01\n")
    with pytest.raises(ConfigError, match="unknown keys max-spend \\(did you mean max_spend\\?\\)"):
        load_config(path, environ={})


def test_permissions_and_cap_are_read(tmp_path):
    path = write(tmp_path, 'max_spend = 2.5\n[permissions]\nwrite = "deny"\n[accounts.default]\nusername = "u"\napi_key = "k"\npermissions = { write = "allow" }\n')
    config = load_config(path, environ={})
    assert config.max_spend == 2.5
    assert config.permissions.write == "deny"
    assert config.accounts["default"].permissions.write == "allow"


def test_bad_permission_value_is_an_error(tmp_path):
    path = write(tmp_path, '[permissions]\nwrite = "maybe"\n')
    with pytest.raises(ConfigError, match="must be one of allow, ask, deny"):
        load_config(path, environ={})


def test_invalid_toml_is_an_error(tmp_path):
    path = write(tmp_path, "[accounts\n")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(path, environ={})


def test_key_is_not_in_error_or_repr(tmp_path):
    path = write(tmp_path, '[accounts.default]\nusername = "u"\napi_key = "KEY-SECRET-1"\n')
    config = load_config(path, environ={})
    assert "KEY-SECRET-1" not in repr(config)
