"""
`ppack build` end to end (issue #2): real dockerd, real registry, the stand-in pack.

Pulls are counted in the registry's access log: a daemon pull asks for the
manifest by tag exactly once, so ``pulls_of`` is the number of pulls.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from conftest import Workspace
from support.engine import Registry, lifecycle_labels, publish_builder, publish_image, run_image_labels


BUILDER = "example/builder:1"  # not in pack's trusted list: pack needs the lifecycle image too
TRUSTED = "heroku/builder:24"
RUN = "heroku/heroku:24"
LIFECYCLE = "buildpacksio/lifecycle:0.21.0"
REPOS = {"builder": "example/builder", "run": "heroku/heroku", "lifecycle": "buildpacksio/lifecycle"}


@pytest.fixture(scope="module", autouse=True)
def images(registry: Registry) -> None:
    publish_builder(registry, BUILDER, RUN)
    publish_builder(registry, TRUSTED, RUN)
    publish_image(None, registry, RUN, labels=run_image_labels())
    publish_image(None, registry, LIFECYCLE, labels=lifecycle_labels())


def pulls(registry: Registry, since: int) -> dict[str, int]:
    return {role: registry.pulls_of(repo, since) for role, repo in REPOS.items()}


def test_cold_then_fresh_then_one_missing(engine_workspace: Workspace, registry: Registry) -> None:
    ws = engine_workspace
    mark = registry.mark()
    cold = ws.run("build", "app", "-B", BUILDER, "--pull-policy", "daily")
    assert cold.returncode == 0, cold.stderr
    assert pulls(registry, mark) == {"builder": 1, "run": 1, "lifecycle": 1}
    assert cold.pack_argv[1:] == ["build", "--pull-policy", "never", "app", "-B", BUILDER]

    mark = registry.mark()
    fresh = ws.run("build", "app", "-B", BUILDER, "--pull-policy", "daily")
    assert fresh.returncode == 0, fresh.stderr
    assert registry.manifest_requests(mark) == []
    assert fresh.pack_argv[1:] == ["build", "--pull-policy", "never", "app", "-B", BUILDER]
    assert "3 images fresh (daily); nothing to pull" in fresh.stderr

    ws_daemon_rmi(ws, RUN)
    mark = registry.mark()
    third = ws.run("build", "app", "-B", BUILDER, "--pull-policy", "daily")
    assert third.returncode == 0, third.stderr
    assert pulls(registry, mark) == {"builder": 0, "run": 1, "lifecycle": 0}


def ws_daemon_rmi(ws: Workspace, name: str) -> None:
    import docker

    docker.APIClient(base_url=ws.env["DOCKER_HOST"], version="auto").remove_image(name, force=True)


def test_the_log_records_each_pull_by_daemon_and_canonical_name(engine_workspace: Workspace) -> None:
    run = engine_workspace.run("build", "app", "-B", BUILDER)
    assert run.returncode == 0, run.stderr
    records = engine_workspace.records()
    assert set(records) == {
        "docker.io/example/builder:1",
        "docker.io/heroku/heroku:24",
        "docker.io/buildpacksio/lifecycle:0.21.0",
    }
    builder = records["docker.io/example/builder:1"]
    assert builder.name == "index.docker.io/example/builder:1"
    assert builder.image_id.startswith("sha256:")
    assert builder.repo_digest.startswith("example/builder@sha256:")
    assert builder.platform.startswith("linux/")


def test_trusted_builder_needs_no_lifecycle_image(engine_workspace: Workspace, registry: Registry) -> None:
    mark = registry.mark()
    run = engine_workspace.run("build", "app", "--builder", TRUSTED)
    assert run.returncode == 0, run.stderr
    assert registry.pulls_of("heroku/builder", mark) == 1
    assert registry.pulls_of("heroku/heroku", mark) == 1
    assert registry.pulls_of("buildpacksio/lifecycle", mark) == 0


@pytest.mark.parametrize(
    ("policy", "age", "expected"),
    [
        ("always", timedelta(0), 3),
        ("if-not-present", timedelta(days=400), 0),
        ("never", timedelta(days=400), 0),
        ("hourly", timedelta(minutes=59), 0),
        ("hourly", timedelta(minutes=61), 3),
        ("daily", timedelta(hours=23), 0),
        ("daily", timedelta(hours=24), 3),
        ("weekly", timedelta(days=6, hours=23), 0),
        ("weekly", timedelta(days=7, minutes=1), 3),
        ("interval=12h", timedelta(hours=11), 0),
        ("interval=12h", timedelta(hours=13), 3),
        ("interval=1w2d", timedelta(days=8), 0),
        ("interval=1w2d", timedelta(days=9, minutes=1), 3),
        ("interval=90m", timedelta(minutes=89), 0),
        ("interval=90m", timedelta(minutes=91), 3),
    ],
)
def test_policies_on_present_images_of_a_given_age(
    engine_workspace: Workspace, registry: Registry, policy: str, age: timedelta, expected: int
) -> None:
    ws = engine_workspace
    assert ws.run("build", "app", "-B", BUILDER).returncode == 0
    ws.age_log(age)
    mark = registry.mark()
    run = ws.run("build", "app", "-B", BUILDER, f"--pull-policy={policy}")
    assert run.returncode == 0, run.stderr
    assert sum(pulls(registry, mark).values()) == expected
    assert run.pack_argv[1:4] == ["build", "--pull-policy", "never"]


@pytest.mark.parametrize("policy", ["always", "if-not-present", "hourly", "daily", "weekly", "interval=5m"])
def test_missing_images_are_pulled_under_every_pulling_policy(
    engine_workspace: Workspace, registry: Registry, policy: str
) -> None:
    mark = registry.mark()
    run = engine_workspace.run("build", "app", "-B", BUILDER, "--pull-policy", policy)
    assert run.returncode == 0, run.stderr
    assert pulls(registry, mark) == {"builder": 1, "run": 1, "lifecycle": 1}


def test_missing_image_that_the_log_calls_fresh_is_pulled(
    engine_workspace: Workspace, registry: Registry
) -> None:
    ws = engine_workspace
    assert ws.run("build", "app", "-B", BUILDER).returncode == 0
    ws_daemon_rmi(ws, LIFECYCLE)
    mark = registry.mark()
    run = ws.run("build", "app", "-B", BUILDER, "--pull-policy", "weekly")
    assert run.returncode == 0, run.stderr
    assert pulls(registry, mark) == {"builder": 0, "run": 0, "lifecycle": 1}


def test_never_with_a_missing_image_fails_before_pack(
    engine_workspace: Workspace, registry: Registry
) -> None:
    mark = registry.mark()
    run = engine_workspace.run("build", "app", "-B", BUILDER, "--pull-policy", "never")
    assert run.returncode == 1
    assert run.stderr.strip() == (
        "ERROR: image 'index.docker.io/example/builder:1' (builder) is not in the daemon, "
        "and --pull-policy never does not pull it"
    )
    assert run.pack_calls == []
    assert registry.manifest_requests(mark) == []


def test_future_dated_records_count_as_stale(engine_workspace: Workspace, registry: Registry) -> None:
    ws = engine_workspace
    assert ws.run("build", "app", "-B", BUILDER).returncode == 0
    ws.age_log(-timedelta(days=2))
    mark = registry.mark()
    assert ws.run("build", "app", "-B", BUILDER, "--pull-policy", "weekly").returncode == 0
    assert sum(pulls(registry, mark).values()) == 3


def test_policy_sources_in_order(engine_workspace: Workspace, registry: Registry) -> None:
    ws = engine_workspace
    assert ws.run("build", "app", "-B", BUILDER).returncode == 0
    ws.age_log(timedelta(hours=2))

    def pulled_with(*args: str, env: dict[str, str] | None = None) -> int:
        mark = registry.mark()
        run = ws.run("build", "app", "-B", BUILDER, *args, env=env)
        assert run.returncode == 0, run.stderr
        return sum(pulls(registry, mark).values())

    ws.pack_config('pull-policy = "if-not-present"\n')
    assert pulled_with() == 0  # pack's config: if-not-present
    (ws.root / "ppack-config.toml").write_text('pull-policy = "hourly"\n')
    assert pulled_with() == 3  # ppack's config wins over pack's
    ws.age_log(timedelta(hours=2))
    assert pulled_with(env={"PPACK_PULL_POLICY": "daily"}) == 0  # the variable wins over the files
    assert pulled_with("--pull-policy", "hourly", env={"PPACK_PULL_POLICY": "daily"}) == 3
    ws.age_log(timedelta(hours=2))
    # An empty flag means "not given", as in pack; the last occurrence wins.
    assert (
        pulled_with("--pull-policy", "always", "--pull-policy", "", env={"PPACK_PULL_POLICY": "daily"}) == 0
    )


def test_other_commands_reach_pack_untouched(engine_workspace: Workspace, registry: Registry) -> None:
    for argv in (["builder", "inspect", TRUSTED], ["config", "pull-policy", "if-not-present"], []):
        mark = registry.mark()
        run = engine_workspace.run(*argv)
        assert run.returncode == 0, run.stderr
        assert run.pack_argv[1:] == argv
        assert registry.manifest_requests(mark) == []


def test_version_prints_ppack_then_pack(workspace: Workspace) -> None:
    run = workspace.run("--version")
    assert run.returncode == 0
    lines = run.stdout.splitlines()
    assert lines[0].startswith("ppack 0.")
    assert lines[1] == "pack 0.40.5+git-7640af9.build-6868"


@pytest.mark.parametrize("policy", ["daily", "always"])
def test_an_updated_builder_does_not_pull_the_rest_twice(
    engine_workspace: Workspace, registry: Registry, policy: str
) -> None:
    """The builder is refreshed together with the images its old labels name; when the new
    builder turns out to be another image, the re-plan must not pull those a second time."""
    builder = f"updated/builder:{policy}"
    publish_builder(registry, builder, RUN)
    ws = engine_workspace
    assert ws.run("build", "app", "-B", builder).returncode == 0
    ws.age_log(timedelta(days=2))
    publish_builder(registry, builder, RUN)  # upstream rebuilt the builder: a new image ID
    mark = registry.mark()
    run = ws.run("build", "app", "-B", builder, "--pull-policy", policy)
    assert run.returncode == 0, run.stderr
    assert registry.pulls_of("updated/builder", mark) == 1
    assert registry.pulls_of("heroku/heroku", mark) == 1
    assert registry.pulls_of("buildpacksio/lifecycle", mark) == 1
    assert "another ppack" not in run.stderr, run.stderr


def _registry_index(ws: Workspace, registry: Registry, entries: dict[str, str]) -> dict[str, str]:
    """The stand-in pack's registry index: locator id → version → the package image it names."""
    import json

    from support.engine import package_labels

    index: dict[str, dict[str, str]] = {}
    for ident, version in entries.items():
        digest = publish_image(
            None, registry, f"{ident}-img:{version}", labels=package_labels(ident, version)
        )
        index.setdefault(ident, {})[version] = f"docker.io/{ident}-img@{digest}"
    path = ws.root / "registry-index.json"
    path.write_text(json.dumps(index))
    return {"FAKEPACK_REGISTRY_INDEX": str(path)}


def test_a_registry_buildpack_never_pulled_that_cannot_be_resolved_is_an_error(
    engine_workspace: Workspace, registry: Registry
) -> None:
    ws = engine_workspace
    env = _registry_index(ws, registry, {"example/known-bp": "1.0.0"})
    run = ws.run("build", "app", "-B", TRUSTED, "-b", "urn:cnb:registry:example/unknown-bp@2.0.0", env=env)
    assert run.returncode == 1, run.stderr
    assert "Warning: could not refresh" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("ERROR:")]
    assert errors == [
        "ERROR: failed to pull urn:cnb:registry:example/unknown-bp@2.0.0 (buildpack): "
        "locating in registry 'urn:cnb:registry:example/unknown-bp@2.0.0': "
        "reading entry: no entry for example/unknown-bp in the index"
    ]
    assert not any("build" in call["argv"] for call in run.pack_calls)  # pack build never started


def test_the_buildpack_registry_flag_reaches_pack_buildpack_pull(
    engine_workspace: Workspace, registry: Registry
) -> None:
    ws = engine_workspace
    env = _registry_index(ws, registry, {"example/corp-bp": "1.0.0"})
    ws.pack_config(
        'experimental = true\n[[registries]]\nname = "corp"\ntype = "github"\nurl = "https://example.test/corp-index"\n'
    )
    run = ws.run("build", "app", "-B", TRUSTED, "-b", "example/corp-bp@1.0.0", "-r", "corp", env=env)
    assert run.returncode == 0, run.stderr
    pulls = [call["argv"][1:] for call in run.pack_calls if call["argv"][1:3] == ["buildpack", "pull"]]
    assert pulls == [["buildpack", "pull", "example/corp-bp@1.0.0", "--buildpack-registry", "corp"]]


def test_never_with_an_extensions_builder_stays_never(
    engine_workspace: Workspace, registry: Registry
) -> None:
    """pack needs `always` for image extensions; asked for `never`, ppack does not quietly switch."""
    ext = [{"id": "example/ext", "version": "1.0.0"}]
    publish_builder(registry, "ext/builder:1", RUN, order_extensions=ext)
    ws = engine_workspace
    assert ws.run("build", "app", "-B", "ext/builder:1").returncode == 0  # daily: runs pack with always
    run = ws.run("build", "app", "-B", "ext/builder:1", "--pull-policy", "never")
    assert run.pack_argv[1:4] == ["build", "--pull-policy", "never"]
    assert "Warning: the builder contains image extensions" not in run.stderr
    assert run.returncode != 0
    assert "pull policy must be 'always' when builder contains image extensions" in run.stderr
