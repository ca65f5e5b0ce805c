"""`freeze_startup_heap`: what start-up left alive leaves the collector's view, what it
left as garbage is freed first, and cycles made later are still collected.

Run in a child interpreter: freezing this test process would keep every later test's
garbage.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import gc, weakref
    from shared.runtime import freeze_startup_heap

    class Node:
        def __init__(self):
            self.me = self  # a cycle: only the cyclic collector frees it

    gc.disable()  # nothing collects behind the test's back
    kept = Node()
    dropped = Node()
    dropped_ref = weakref.ref(dropped)
    del dropped
    assert dropped_ref() is not None
    freeze_startup_heap()
    assert dropped_ref() is None, "start-up garbage was frozen instead of freed"
    frozen = gc.get_freeze_count()
    assert frozen > 1000, frozen  # the imported modules and their objects
    assert not gc.is_tracked(kept) or all(kept is not o for o in gc.get_objects())
    later = Node()
    later_ref = weakref.ref(later)
    del later
    gc.collect()
    assert later_ref() is None, "a cycle made after start-up was not collected"
    print("ok", frozen)
    """
)


def test_startup_objects_are_frozen_and_later_cycles_still_collected() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok ")
