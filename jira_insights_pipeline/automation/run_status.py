"""Which runs count as under way, and which only look so.

The hourly schedule skips while a refresh is under way, and the publication keeps the drafts of
runs under way. A run whose worker was killed (kill -9, out of memory, a reboot) stays STARTED
in the run database for ever, and the hourly schedule would then skip every tick. Run monitoring
(.dagster/dagster.yaml) ends such a run only at its `dagster/max_runtime`: the default run
launcher, which runs workers as processes on this machine, cannot report a worker's health. So
the schedule looks itself: a STARTED run of the default launcher whose worker process (the pid of
its RUN_START event) no longer exists on this machine is marked failed.
"""

from __future__ import annotations

import os

import dagster as dg

ACTIVE_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def active_run_ids(instance: dg.DagsterInstance) -> set[str]:
    """The ids of every run under way on the instance."""
    records = instance.get_run_records(filters=dg.RunsFilter(statuses=ACTIVE_STATUSES))
    return {record.dagster_run.run_id for record in records}


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def dead_worker_pid(instance: dg.DagsterInstance, run: dg.DagsterRun) -> int | None:
    """The pid of a STARTED run's worker when that process is gone from this machine, else None
    (the run is alive, not started, or its worker runs elsewhere)."""
    if run.status != dg.DagsterRunStatus.STARTED:
        return None
    if not isinstance(instance.run_launcher, dg.DefaultRunLauncher):
        return None  # a worker in a container or on another host is not ours to look for
    started = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.RUN_START, limit=1
    ).records
    event = started[0].event_log_entry.dagster_event if started else None
    pid = event.pid if event is not None else None
    if pid is None or _process_exists(pid):
        return None
    return pid


def fail_runs_whose_worker_died(
    instance: dg.DagsterInstance, runs: list[dg.DagsterRun]
) -> list[str]:
    """Marks failed each of `runs` whose worker died; returns one sentence per run marked."""
    marked = []
    for run in runs:
        pid = dead_worker_pid(instance, run)
        if pid is None:
            continue
        message = (
            f"Run {run.run_id} of {run.job_name} was STARTED but its worker process {pid} no "
            "longer exists (killed or crashed); marked failed so that refreshes go on. Nothing "
            "it wrote was published."
        )
        instance.report_run_failed(run, message)
        marked.append(message)
    return marked
