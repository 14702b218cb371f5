"""A promotion dev -> stage against a plain ``cdk deploy -c env=stage --all`` of the same kind of change.

The benchmark starts its own local AWS, makes a clean commit of this checkout (as the promotion
tests do), deploys dev with the guarded deploy and promotes it once into a new stage (not timed).
Then each round commits one change (a line added to the ingest handler: one function's code, so
S1-runtime changes) and applies it to stage, alternating:
- a promotion: ``promote_dev_to_stage.sh --client lai_weekly --validate`` (after an untimed guarded
  deploy of dev): gates (the smoke test of dev, its snapshot), stage's snapshot, the deploy of dev's
  stored assembly, the sha check, the config copy, the smoke test of stage, the records;
- a plain deploy: ``cdk deploy -c env=stage --all`` from the same checkout (a synth, then the deploy).
Both pay CloudFormation's pre-update snapshot of the stack that changes. Medians are compared.
Target: ratio <= 1.5. Run: ``.venv/bin/python benchmarks/bench_promotion.py [--pairs 2]`` (~10 min);
``--smoke``: one pair (the set-up's deploy and first promotion cannot be skipped: several minutes).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # local_aws and the test support run from the checkout

from local_aws import LocalAws  # noqa: E402  # needs the path above
from local_aws import cdk as local_cdk  # noqa: E402
from local_aws.settings import CDK_CLI_QUIET_ENV  # noqa: E402
from tests.promotion.conftest import BOOTSTRAP_APP, prepare_targets  # noqa: E402
from tests.promotion.support import World, clean_clone, publish_dev_configs  # noqa: E402
from tests.support.cdk_cli import ALARM_CONTEXT  # noqa: E402

TARGET_RATIO = 1.5
HANDLER = "lambdas/ingest_v2/handler.py"
# The handler's signature line: a change is a line inserted at the top of its body.
PARSE = "def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:\n"


def check(run: object, what: str) -> None:
    if getattr(run, "code", getattr(run, "returncode", 1)) != 0:
        raise SystemExit(f"{what} failed:\n{run}")


def change(world: World, round_: int) -> None:
    world.change(
        HANDLER, PARSE, PARSE + f"    logger.debug('benchmark change {round_}')\n", f"bench change {round_}"
    )


def time_promotion(world: World) -> float:
    check(world.run("deploy_lambda.sh", "--env", "dev"), "guarded deploy of dev")
    start = time.perf_counter()
    check(world.run("promote_dev_to_stage.sh", "--client", "lai_weekly", "--validate"), "promotion")
    return time.perf_counter() - start


def time_plain_deploy(world: World, output: Path) -> float:
    command = [str(world.repo / "node_modules/.bin/cdk"), "deploy", "-c", "env=stage", *ALARM_CONTEXT,
               "--all", "--require-approval", "never", "--output", str(output)]  # fmt: skip
    start = time.perf_counter()
    # The clone's own packages first, as the deploy scripts set them (the linked .venv's editable
    # install points at this checkout, which may be another commit).
    pythonpath = {"PYTHONPATH": f"{world.repo}:{world.repo / 'layers/vectora_core/python'}"}
    result = subprocess.run(command, cwd=world.repo, env=world.env({**CDK_CLI_QUIET_ENV, **pythonpath}),
                            capture_output=True,
                            text=True, check=False, timeout=1800)  # fmt: skip
    elapsed = time.perf_counter() - start
    check(result, f"cdk deploy -c env=stage --all:\n{result.stdout[-3000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pairs", type=int, default=2, help="promotion/plain-deploy pairs (medians are compared)"
    )
    parser.add_argument("--smoke", action="store_true", help="one pair: it must run, not meet its figure")
    args = parser.parse_args()
    if args.smoke:
        args.pairs = 1
    base = Path(tempfile.mkdtemp(prefix="bench-promotion-"))
    aws = LocalAws(port=0, state_dir=base / "state")
    promotions: list[float] = []
    plain: list[float] = []
    try:
        aws.start()
        repo = clean_clone(REPO, base / "repo")
        (base / "bootstrap_app.py").write_text(BOOTSTRAP_APP)
        local_cdk.bootstrap(
            aws, app=local_cdk.python_app(base / "bootstrap_app.py"), output_dir=base / "boot.out"
        )
        world = World(aws, repo, base / "records")
        world.green_record()
        check(world.run("deploy_lambda.sh", "--env", "dev"), "first guarded deploy of dev")
        publish_dev_configs(world)
        prepare_targets(world)  # the PubMed key the target's preflight gate asks for, as the tests do
        check(world.run("promote_dev_to_stage.sh", "--client", "lai_weekly", "--validate"), "first promotion")
        for round_ in range(2 * args.pairs):
            change(world, round_)
            if round_ % 2 == 0:
                promotions.append(time_promotion(world))
            else:
                plain.append(time_plain_deploy(world, base / "plain.out"))
            print(f"round {round_ + 1}: {'promotion' if round_ % 2 == 0 else 'plain deploy'} "
                  f"{(promotions if round_ % 2 == 0 else plain)[-1]:.1f} s", flush=True)  # fmt: skip
    finally:
        aws.stop()
        shutil.rmtree(base, ignore_errors=True)
    ours, theirs = statistics.median(promotions), statistics.median(plain)
    pairs = [round(p / d, 2) for p, d in zip(promotions, plain, strict=True)]
    print(f"promotion dev -> stage        : median {ours:.1f} s  runs {[round(t, 1) for t in promotions]}")
    print(f"cdk deploy -c env=stage --all : median {theirs:.1f} s  runs {[round(t, 1) for t in plain]}")
    print(f"ratio per pair {pairs}")
    verdict = "OK" if ours / theirs <= TARGET_RATIO else "OVER TARGET"
    print(f"ratio {ours / theirs:.2f} (target <= {TARGET_RATIO}) -> {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
