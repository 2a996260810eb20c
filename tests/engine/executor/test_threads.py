"""executor.threads: for_each runs every strip once, raises errors, runs nested calls
inline and honours the batch executor's thread cap; start runs beside the caller."""
from __future__ import annotations

import threading
import time

import cv2
import pytest

from maskroom.engine.executor import threads as pool


@pytest.fixture
def four_threads():
    before = cv2.getNumThreads()
    cv2.setNumThreads(4)
    yield
    cv2.setNumThreads(before)


def test_every_item_runs_once_and_on_several_threads(four_threads):
    seen, names, lock = [], set(), threading.Lock()

    def work(i):
        time.sleep(0.01)  # long enough that the other threads take items too
        with lock:
            seen.append(i)
            names.add(threading.current_thread().name)

    pool.for_each(work, range(40))
    assert sorted(seen) == list(range(40))
    assert len(names) > 1


def test_the_first_error_is_raised_after_the_others_stop(four_threads):
    running = []

    def work(i):
        running.append(i)
        if i == 3:
            raise ValueError("strip 3 failed")
        time.sleep(0.005)
        running.remove(i)

    with pytest.raises(ValueError, match="strip 3"):
        pool.for_each(work, range(30))
    assert running == [3]  # nobody still writing when the caller sees the error


def test_a_strip_that_runs_strips_does_them_on_its_own_thread(four_threads):
    done = []

    def inner(j, outer_thread):
        assert threading.current_thread() is outer_thread  # inline: the pool never waits on itself
        done.append(j)

    def outer(i):
        me = threading.current_thread()
        pool.for_each(lambda j: inner(j, me), range(5))

    worker = threading.Thread(target=pool.for_each, args=(outer, range(8)))
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "nested for_each deadlocked"
    assert len(done) == 40


def test_one_thread_when_the_executor_caps_a_worker_at_one():
    # executor.base.cap_threads sets OpenCV's thread count in each batch worker
    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        names = set()
        pool.for_each(lambda i: names.add(threading.current_thread().name), range(20))
        assert names == {threading.current_thread().name}
    finally:
        cv2.setNumThreads(before)


def test_callers_on_several_threads_while_the_thread_count_changes():
    # The app renders a preview and thumbnails at once; the pool grows when the count
    # rises.  Every item of every call runs once, and no call meets a retired pool.
    before = cv2.getNumThreads()
    errors, counts, lock = [], [], threading.Lock()

    def caller():
        try:
            for _ in range(60):
                seen = []
                pool.for_each(lambda i: seen.append(i), range(12))
                with lock:
                    counts.append(sorted(seen) == list(range(12)))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    callers = [threading.Thread(target=caller) for _ in range(3)]
    try:
        for t in callers:
            t.start()
        for n in (2, 3, 4, 5, 6, 2, 8):
            cv2.setNumThreads(n)
            time.sleep(0.005)
        for t in callers:
            t.join(timeout=30)
    finally:
        cv2.setNumThreads(before)
    assert not errors and len(counts) == 180 and all(counts)


def test_strips_do_not_wait_behind_a_model_running_in_the_background():
    # The sky's U²-Netp holds pool threads for a while: a render's strips meanwhile run
    # in the caller, and its helpers still queued are called off, not waited for.
    before = cv2.getNumThreads()
    cv2.setNumThreads(2)
    release = threading.Event()
    try:
        busy = [pool.start(release.wait, 10) for _ in range(2)]  # the whole 2-thread pool
        seen = []
        t = time.perf_counter()
        pool.for_each(seen.append, range(10))
        took = time.perf_counter() - t
        assert sorted(seen) == list(range(10)) and took < 2.0, took
    finally:
        release.set()
        cv2.setNumThreads(before)
    assert all(f.result(timeout=10) for f in busy)


def test_start_runs_beside_the_caller_and_later_only_when_asked():
    job = pool.start(lambda: threading.current_thread().name)
    assert job.result(timeout=10) != threading.current_thread().name
    ran = []
    later = pool.Later(lambda x: ran.append(x) or x * 2, 21)
    assert ran == []
    assert later.result() == 42 and ran == [21]
