"""docker-compose.yml, the Dockerfile and the package agree with the code they run."""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
import tomllib

import click
import pytest
import yaml

from cli.main import main as carepress
from generator.settings import Settings
from tests.conftest import REPO, snapshot

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
DOCKERFILE = (REPO / "Dockerfile").read_text()
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
SETTINGS_ENV = {f"CAREPRESS_{name.upper()}" for name in Settings.model_fields}


def test_services_are_there():
    assert {"redis", "worker", "api", "flower"} <= set(SERVICES)


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_environment_names_are_settings(name):
    env = SERVICES[name].get("environment", {})
    unknown = {k for k in env if k.startswith("CAREPRESS_")} - SETTINGS_ENV
    assert not unknown, f"{name} sets variables no Settings field reads: {unknown}"
    Settings(**{k.removeprefix("CAREPRESS_").lower(): v for k, v in env.items()
                if k.startswith("CAREPRESS_") and not v.startswith("${")})  # values are valid


@pytest.mark.parametrize("name", ["worker", "api", "flower"])
def test_app_services_use_the_image_and_reach_redis(name):
    service = SERVICES[name]
    assert service["build"] == "."
    assert "redis" in service["depends_on"]
    for key in ("CAREPRESS_BROKER_URL", "CAREPRESS_RESULT_BACKEND"):
        host = service["environment"][key].split("//")[1].split(":")[0]
        assert host in SERVICES, f"{name}: {key} names no service"


def test_worker_command_is_a_real_carepress_command():
    command = SERVICES["worker"]["command"]
    assert command[0] in PYPROJECT["project"]["scripts"]
    sub = carepress.commands[command[1]]
    context = sub.make_context(command[1], list(command[2:]))  # raises on an unknown option
    assert context.params["concurrency"] >= 1


def test_flower_runs_the_celery_app_of_the_worker():
    command = SERVICES["flower"]["command"]
    assert command[:3] == ["celery", "-A", "worker.app"]
    from worker.app import app

    assert app.main == "carepress"
    assert "flower" in str(PYPROJECT["project"]["optional-dependencies"]["monitor"])
    assert '".[monitor]"' in DOCKERFILE


@pytest.mark.parametrize("name", ["worker", "api"])
def test_volumes_are_mounted_where_the_settings_point(name):
    service = SERVICES[name]
    env = service["environment"]
    targets = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
    assert env["CAREPRESS_CONTENT_DIR"] in targets
    assert targets[env["CAREPRESS_CONTENT_DIR"]] == "./content"
    assert env["CAREPRESS_OUT_DIR"] in targets
    for source in targets.values():
        if not source.startswith("."):
            assert source in COMPOSE["volumes"], f"undeclared volume {source}"


def test_worker_and_api_share_the_output_store_at_one_path():
    # A task names the output folder by its path, so every service must see it at the same one.
    paths = {SERVICES[n]["environment"]["CAREPRESS_OUT_DIR"] for n in ("worker", "api")}
    assert len(paths) == 1


def test_api_service_runs_carepress_serve_with_its_state():
    service = SERVICES["api"]
    command = service["command"]
    assert command[0] in PYPROJECT["project"]["scripts"]
    context = carepress.commands[command[1]].make_context(command[1], list(command[2:]))
    assert context.params["host"] == "0.0.0.0"
    assert f"{context.params['port']}:{context.params['port']}" in service["ports"]
    env = service["environment"]
    targets = {v.split(":")[1]: v for v in service["volumes"]}
    assert env["CAREPRESS_STATE_DIR"] in targets
    assert not targets[env["CAREPRESS_CONTENT_DIR"]].endswith(":ro"), "webhooks write content"
    assert env["CAREPRESS_WEBHOOK_SECRETS"].startswith("${CAREPRESS_WEBHOOK_SECRETS:?")


def test_dockerfile_installs_every_package_and_the_system_libraries():
    for package in {name.split(".")[0] for name in PYPROJECT["tool"]["setuptools"]["packages"]}:
        assert f"COPY {package} {package}" in DOCKERFILE
    for library in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0"):
        assert library in DOCKERFILE
    names = set(re.findall(r"\b(CAREPRESS_[A-Z_]+)=", DOCKERFILE))
    assert names and names <= SETTINGS_ENV
    cmd = DOCKERFILE.split("CMD ", 1)[1].strip()
    assert cmd == '["carepress", "worker"]'


def test_setup_script_installs_what_the_readme_promises():
    setup = (REPO / "scripts" / "setup.sh").read_text()
    for package in ("libharfbuzz-subset0", "redis-server", "libpango-1.0-0"):
        assert package in setup
    readme = (REPO / "README.md").read_text()
    commands = [line for line in readme.splitlines()[:12] if line.startswith("scripts/setup.sh")]
    assert len(commands) == 2
    ci = (REPO / ".ci" / "run").read_text()
    assert "scripts/setup.sh && scripts/test.sh" in ci


@pytest.mark.slow
def test_wheel_installs_with_templates_and_fonts(tmp_path, built):
    """`pip install .` gives a working carepress: templates and fonts travel in the package."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(tmp_path / "dist"), str(REPO)], check=True, capture_output=True)
    [wheel] = (tmp_path / "dist").glob("*.whl")
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    # Dependencies from this environment, carepress itself only from the installed wheel.
    deps = sysconfig.get_paths()["purelib"]
    env = {"PYTHONPATH": f"{target}:{deps}", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-c", "from cli.main import main; main()", "build",
                    "--content", str(REPO / "content"), "--out", str(out), "--quiet"],
                   cwd=tmp_path, env=env, check=True, capture_output=True)
    where = subprocess.run([sys.executable, "-c", "import cli, templates; print(cli.__file__); "
                            "print(templates.__file__)"], cwd=tmp_path, env=env, check=True,
                           capture_output=True, text=True).stdout.split()
    assert all(path.startswith(str(target)) for path in where), where
    assert snapshot(out) == snapshot(built)


def test_every_cli_command_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text()
    for name in carepress.commands:
        assert f"carepress {name}" in readme, name
    assert isinstance(carepress, click.Group)
