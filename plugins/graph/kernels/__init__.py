"""The numba kernels of the graph plugin, one module per algorithm of ``functional``.

``dropout`` (edge/node dropout, induced edges), ``masking`` (feature masking and its fill
statistics), ``rewiring`` (random rewiring), ``swaps`` (degree-preserving double edge swaps,
the swap-unit finders, the open-addressing pair table), ``sampling`` (subgraph sampling),
``shuffling`` (node shuffling) and ``common`` (edge compaction, id range, relabelling, the
prefetch intrinsic, the counter mix).
``streams`` names the random streams both the kernels and the torch code draw from.

Importing this package imports nothing; the kernel modules need numba and are imported only
when it is installed (see ``augkit.plugins.graph._backend``). They live at module level, not
built inside a function, so numba's on-disk cache serves every later process.
"""
