"""minigrad.nn.parallel.DistributedDataParallel under ``mpiexec -n 2`` (the workers in workers/).

- equivalence (workers/ddp_equivalence.py): 2 ranks with batch b reach the weights of 1 process with batch 2b
  after 20 steps, for the MLP and the small CNN, SGD with momentum and Adam, float64 (1e-12 relative) and
  float32 (1e-5), plain and with no_sync accumulation; all ranks' weights bitwise equal; the allreduce of an
  earlier bucket is already started when the backward reaches the first layer's weight;
- the wrap-time check naming the first mismatching parameter and rank, the arguments, rank 0's parameters and
  buffers broadcast at wrap time, the module. prefix of state_dict, forward passthrough, the error for
  parameters left without a gradient, no_grad forwards (workers/ddp_errors.py);
- a rank that raises mid-training makes the job exit non-zero within 30 s instead of hanging (rank_fails.py);
- a rank killed by SIGKILL mid-training: the others are gone and mpiexec exits non-zero within 30 s, through the
  launcher, and, where the launcher does not clean up (-disable-auto-cleanup), through the process group's
  timeout; a rank that gets stuck: the others' timeout aborts the job (rank_killed.py);
- find_unused_parameters (with and without no_sync), static_graph, the communication hooks (allreduce_hook
  bitwise as no hook, fp16 compression, a hook with state), gradient_as_bucket_view and a process_group, each
  against one process; the bucket rebuild in ready order; PyTorch's errors (workers/ddp_features.py);
- the training script of docs/distributed.md runs under mpiexec -n 2 (only rank 0 prints and writes).
"""

import pathlib
import re
import subprocess
import time

import pytest
from mpi_launch import alive, check, requires_mpi, run_workers

import minigrad as mg
from minigrad.errors import DistributedError
from minigrad.nn.parallel import DistributedDataParallel

CASES = [
    f"{model} {opt} {dtype} {mode}"
    for model in ("mlp", "cnn")
    for opt in ("sgd", "adam")
    for dtype in ("float64", "float32")
    for mode in ("plain", "no_sync")
]


@pytest.fixture(scope="module")
def equivalence():
    out = check(run_workers("ddp_equivalence.py", n=2, timeout=300))
    found = re.findall(r"rank (\d) case (\w+ \w+ \w+ \w+) rel (\S+) (ok|FAIL)", out)
    return {(int(rank), case): (float(rel), verdict) for rank, case, rel, verdict in found}


@requires_mpi
@pytest.mark.parametrize("case", CASES)
def test_two_ranks_match_one_process_with_the_double_batch(equivalence, case):
    tolerance = 1e-12 if "float64" in case else 1e-5
    for rank in (0, 1):
        rel, verdict = equivalence[(rank, case)]
        assert verdict == "ok" and rel <= tolerance, (rank, case, rel)


@requires_mpi
def test_checks_and_module_behaviour():
    out = check(run_workers("ddp_errors.py", n=2, timeout=120))
    for what in ("mismatch", "arguments", "broadcast and state_dict", "forward", "unused", "no_grad and averaged"):
        for rank in (0, 1):
            assert f"rank {rank}: {what} ok" in out, (what, out)


@requires_mpi
def test_a_rank_that_raises_stops_the_job():
    start = time.monotonic()
    try:
        result = run_workers("rank_fails.py", n=2, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("the surviving rank hung for 30 s after the other raised")
    assert result.returncode != 0
    assert time.monotonic() - start < 30
    assert "RuntimeError: rank 1 fails at step 3" in result.stderr
    assert "aborting the MPI job" in result.stderr


@requires_mpi
@pytest.mark.parametrize("mode", ["launcher", "no-cleanup", "stuck"])
def test_a_rank_killed_by_a_signal_or_stuck_stops_the_others(tmp_path, mode):
    launcher_args = ("-disable-auto-cleanup",) if mode == "no-cleanup" else ()
    start = time.monotonic()
    try:
        result = run_workers(
            "rank_killed.py", mode, str(tmp_path), n=2, timeout=30, launcher_args=launcher_args, output_dir=tmp_path
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{mode}: the surviving rank hung for 30 s")
    assert result.returncode != 0, result
    pids = [int((tmp_path / f"rank{r}.pid").read_text()) for r in (0, 1)]
    deadline = time.monotonic() + 5  # the launcher's last kills may still be on their way
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in pids), f"{mode}: a rank outlived mpiexec"
    assert time.monotonic() - start < 30
    error = tmp_path / "rank0.error"
    if mode == "stuck" or error.exists():  # no-cleanup: Hydra may have ended rank 0 before its timeout did
        text = error.read_text()
        assert text.startswith("DistributedError: DistributedDataParallel: timed out after 1 s"), text


@requires_mpi
def test_unused_parameters_static_graph_hooks_and_buckets():
    out = check(run_workers("ddp_features.py", n=2, timeout=200))
    cases = [
        "find_unused_parameters", "find_unused_parameters no_sync", "static_graph", "static_graph change",
        "unfinished reduction", "no hook", "allreduce_hook", "fp16_compress_hook", "fp16_compress_wrapper",
        "custom hook", "hook returning a list", "bucket rebuild", "gradient_as_bucket_view", "process_group",
    ]  # fmt: skip
    for case in cases:
        for rank in (0, 1):
            assert re.search(rf"rank {rank}: {case} rel \S+ ok", out), (case, out)


@requires_mpi
def test_join_with_uneven_inputs():
    out = check(run_workers("ddp_join.py", n=2, timeout=120))
    cases = [
        "join", "join active ranks", "join comm hook", "join find_unused_parameters", "join no_sync",
        "join buffers", "join disabled", "join throw_on_early_termination", "join generic",
    ]  # fmt: skip
    for case in cases:
        for rank in (0, 1):
            assert re.search(rf"rank {rank}: {case} rel \S+ ok", out), (case, out)


@requires_mpi
def test_powersgd_hooks():
    out = check(run_workers("ddp_powersgd.py", n=2, timeout=120))
    cases = [
        "powerSGD full rank", "powerSGD full rank batched shapes", "batched_powerSGD full rank",
        "powerSGD before start", "powerSGD rank 1", "powerSGD arguments",
    ]  # fmt: skip
    for case in cases:
        for rank in (0, 1):
            assert re.search(rf"rank {rank}: {case} rel \S+ ok", out), (case, out)


@requires_mpi
def test_the_docs_training_script_runs(tmp_path):
    page = pathlib.Path(__file__).resolve().parents[2] / "docs" / "distributed.md"
    script = re.findall(r"```py\n(.*?)```", page.read_text(), re.S)[0]
    path = tmp_path / "train.py"
    path.write_text(script)
    out = check(run_workers(str(path), n=2, timeout=120, cwd=tmp_path))
    assert [line for line in out.splitlines() if line.startswith("epoch")] == [
        line for line in out.splitlines() if line.endswith("on 2 ranks")
    ]
    assert out.count("on 2 ranks") == 3 and (tmp_path / "model.npz").exists()


def test_wrap_needs_a_process_group():
    with pytest.raises(DistributedError, match="DistributedDataParallel: the default process group has not been"):
        DistributedDataParallel(mg.nn.Linear(2, 2))
