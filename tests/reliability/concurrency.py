"""Run `maskroom` commands from several processes at once (a barrier starts them together)."""
from __future__ import annotations

import multiprocessing as mp


def _cli_worker(url: str, cache: str, commands: list[list[str]], barrier) -> list[tuple[int, str]]:
    """In a child process: each command through the real click entry point; (exit code, output) each."""
    from click.testing import CliRunner

    from maskroom.cli import main

    runner = CliRunner()
    out = []
    barrier.wait(timeout=120)
    for args in commands:
        res = runner.invoke(main, ["--catalog", url, *map(str, args)], env={"MASKROOM_CACHE": cache})
        text = res.output
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            text += f"\n{type(res.exception).__name__}: {res.exception}"
        out.append((res.exit_code, text))
    return out


def run_concurrently(catalog, per_process: list[list[list[str]]], timeout: float = 600) -> list[list[tuple[int, str]]]:
    """``per_process[i]`` is the command list of process i; returns their results in that order."""
    ctx = mp.get_context("spawn")  # clean children: no inherited database connections
    with ctx.Manager() as manager:
        barrier = manager.Barrier(len(per_process))
        with ctx.Pool(len(per_process)) as pool:
            jobs = [pool.apply_async(_cli_worker, (catalog.location.url, str(catalog.cache_dir), cmds, barrier))
                    for cmds in per_process]
            return [j.get(timeout=timeout) for j in jobs]
