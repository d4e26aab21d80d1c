"""Trees whose nodes point back to their parents: freed by the cycle collector, or by reference counting with weakref.

Claim tested:

- Seed 001 ("Python is only slow if you use it wrong", Garbage Collection): CPython is "both refcounting and gc".
  "Mutual referencing objects" are never freed by reference counting; the "backup GC finds this, and collects them",
  so such a program "relies on sucking up tons of memory, and getting it later". "Advice: stay away from GC: break
  circular references; most common, trees with reference to parents (full tree need to be GC'ed); better: use the
  weakref module."

Each call builds ``trees`` trees one after another (``DEFAULT_TREES`` is the matrix's size), each a full tree of
plain-class ``Node`` objects (a ``value``, a ``children`` list and a ``parent`` link; no ``__slots__``: the seed's
ordinary objects) with fan-out ``FANOUT`` and ``DEPTH`` levels below the root, 5461 nodes. While a tree is alive the
call walks it once and keeps only its node count and a checksum that reads every node's parent through its link, then
drops it before building the next. The kernels never call ``gc.collect()`` nor disable the collector: what is measured
is what the interpreter does by itself.

Variants:

- ``strong``: ``node.parent = parent``, the pure-Python reference. Every parent/child pair is a reference cycle, so
  a dropped tree is garbage that only the cycle collector can free.
- ``weakref``: ``node.parent = weakref.ref(parent)`` (read back as ``node.parent()``), so the tree has no cycle and
  reference counting frees it the moment the last reference to its root goes. Each parent's one ``weakref.ref`` is
  shared by its children, so weak links add a quarter of an object per node (the 1365 inner nodes), not one.

The answer checked before timing: ``(trees, total nodes, sum of the trees' checksums)``, the same for both variants.

What to look at: the time per call, and the peak memory of each variant (``strong_memory``, ``weakref_memory``: the
same kernels measured with pyperf's ``--track-memory``, the worker's own private memory sampled every 10 ms while
they run, over ten calls a process, each started from a collected heap: ``_harness.peak_memory`` says why), which
holds the garbage the strong trees leave until a collection frees them. Measured by hand (10 calls
in a fresh process per variant: the best call, and the process's peak RSS from ``getrusage``; ranges are two runs on a
machine shared with other jobs):

- CPython 3.12: ``strong`` 98-103 ms, 22.6 MB; ``weakref`` 84-90 ms, 14.7 MB (the interpreter alone: 12.5 MB).
- CPython 3.13t: ``strong`` 125-150 ms, 25.4 MB; ``weakref`` 130-138 ms, 16.7 MB (alone: 15.2 MB).
- PyPy 3.9: ``strong`` 6.5 ms, 114 MB; ``weakref`` 7.7 ms, 115 MB (alone: 79 MB).

What the collector does per call on CPython (``gc.get_stats()`` before and after, ``gc.callbacks`` timing it):

- CPython 3.9-3.13 (generational; a young collection runs every 700 net container allocations, 2000 on 3.13): on
  3.12 about 142 young, 13 middle and 1 full collection per call with ``strong``, and as many (155, 14, 1.2: the
  shared ``weakref.ref`` objects are containers too) with ``weakref``, because building a live tree allocates just as
  much. The difference is what they find. With ``strong`` the young collections free nothing: a tree's upper nodes
  are the oldest, already promoted when it is dropped, and a younger generation's collection counts references from
  older objects as live, so the whole tree waits for a full collection (which runs only once the objects promoted
  since the last one are a quarter of the survivors), about 100,000 objects freed by full collections per call. Time
  inside collections: about 46 ms per call with ``strong`` (freeing the trees included), 15 ms with ``weakref``
  (traversing the live tree and finding nothing; reference counting frees its trees outside the collector).
- CPython 3.13t (free-threaded: one non-generational collector, triggered when allocations minus deallocations pass
  the threshold): about 2.2 collections per call with ``strong`` (freeing about 103,000 objects, 35 ms) and 0.2 with
  ``weakref`` (under 1 ms), because trees freed by reference counting give their allocations back to the count.
- PyPy has no reference counting: its generational GC frees both kinds of tree, cycles or not, so ``strong`` costs
  nothing extra there, and ``weakref`` is slower (a weakref is one more object, and one that PyPy's GC has to
  visit and fix up at its collections) with the same peak RSS.

Why this size: the garbage that strong links leave piles up to a count of objects set by the collector's thresholds,
not by the trees, so the trees must be large enough that one dropped tree, and the pile, are big next to the
interpreter's baseline RSS: with 1365-node trees (fan-out 4, depth 5) the strong variant's extra peak RSS on 3.12 was
about 4 MB over 12.5 MB, with 5461-node trees (depth 6) about 8 MB. Ten of them make a call of about 100 ms on
CPython 3.12, inside what pyperf times well without dominating the matrix's run time. ``SMALL_SIZES`` are for the
tests' agreement check.
"""

import weakref

from _harness import main, peak_memory

DEFAULT_TREES = 10

SMALL_SIZES = (1, 3)

# Tree shape: FANOUT ** 0 + ... + FANOUT ** DEPTH = 5461 nodes per tree (see "Why this size" above).
FANOUT = 4
DEPTH = 6


class Node(object):
    """An ordinary object: an instance dict (no ``__slots__``), so it also supports weak references."""

    def __init__(self, value, parent):
        self.value = value
        self.children = []
        self.parent = parent


def _grow(node, depth, weak, value):
    """Give ``node`` ``depth`` levels of descendants numbered ``value + 1`` on, depth first; return the last number."""
    if depth == 0:
        return value
    # One link per parent, made before its children: the only line where the variants differ while building.
    up = weakref.ref(node) if weak else node
    children = node.children
    for _ in range(FANOUT):
        value += 1
        child = Node(value, up)
        children.append(child)
        value = _grow(child, depth - 1, weak, value)
    return value


# Two walkers rather than one with a flag, so that the per-node loop is the same code but for how the parent is read.
def _summary_strong(root):
    count = 1
    checksum = root.value
    stack = list(root.children)
    while stack:
        node = stack.pop()
        count += 1
        checksum += node.value ^ node.parent.value
        stack.extend(node.children)
    return count, checksum


def _summary_weak(root):
    count = 1
    checksum = root.value
    stack = list(root.children)
    while stack:
        node = stack.pop()
        count += 1
        # The parent is alive: the walk holds the root, and every node holds its children.
        checksum += node.value ^ node.parent().value
        stack.extend(node.children)
    return count, checksum


def _run(trees, weak, summary):
    nodes = checksum = 0
    for index in range(trees):
        root = Node(index, None)
        _grow(root, DEPTH, weak, index)
        count, total = summary(root)
        nodes += count
        checksum += total
        # Drop the tree before building the next: with weak parent links this frees it here, with strong ones it
        # becomes garbage for the cycle collector.
        root = None
    return trees, nodes, checksum


def strong(trees, workers):
    return _run(trees, False, _summary_strong)


def weak(trees, workers):
    return _run(trees, True, _summary_weak)


VARIANTS = {
    "strong": strong,
    "weakref": weak,
    "strong_memory": peak_memory(strong),
    "weakref_memory": peak_memory(weak),
}

if __name__ == "__main__":
    main("gc_cycles", VARIANTS, reference="strong")
