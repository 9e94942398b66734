"""Pure graph functions: tensors in, tensors out, a ``seed`` instead of hidden state.

One module per algorithm: ``dropout`` (edge and node dropout, induced edges, node-id ranges,
relabelling), ``masking`` (feature masking), ``adding`` (edge adding), ``shuffling`` (node
shuffling), ``feature_dropout`` (element dropout), ``diffusion`` (PPR and heat diffusion, as
GDC), ``rewiring`` (random rewiring, within a graph or between two node sets), ``swaps``
(degree-preserving double edge swaps),
``sampling`` (subgraph sampling) and ``undirected``
(pair keys and the undirectedness tests). Every random decision is a counter-based hash of
``(seed, key)`` (``augkit._counter``), so the same seed gives the same result on any device
and no global random state is read. Each function takes ``backend`` (``"auto"``,
``"torch"``, ``"numba"``; see ``augkit.plugins.graph._backend``; those of ``adding``,
``shuffling`` and ``feature_dropout`` take none and follow the ``"auto"`` rule; those of
``diffusion`` and ``rewire_random_bipartite`` take none and are torch ops, ``ppr_push``
excepted, which is the numba kernel only):
torch ops run anywhere and are the reference, the numba kernels
(``augkit.plugins.graph.kernels``) run on the CPU with the same results
(``double_edge_swap`` excepted, see there).

The functions here trust their caller with the values they index by: node ids in
``edge_index`` below ``num_nodes``, ``ptr`` non-decreasing from 0 to ``num_nodes`` and
``batch`` the graph of every node as ``ptr`` says (a kernel reads and writes outside its
arrays otherwise). The transforms check all of it once per call before any of these runs;
a caller with raw input checks it the same way with :func:`node_id_range` and
:func:`batch_mismatch`.
"""

from __future__ import annotations

from augkit.plugins.graph._backend import BACKENDS, numba_disabled
from augkit.plugins.graph.functional.adding import add_bipartite_edges, add_edge_items
from augkit.plugins.graph.functional.diffusion import (
    diffusion_matrix,
    ppr_push,
    sparsify,
    sparsify_entries,
)
from augkit.plugins.graph.functional.dropout import (
    batch_mismatch,
    dropout_edge,
    dropout_edge_items,
    dropout_node,
    edge_keep_items,
    edge_keep_mask,
    induced_edges,
    node_id_range,
    node_keep_ids,
    node_keep_items,
    relabel_mask,
    symmetric_graphs,
)
from augkit.plugins.graph.functional.feature_dropout import dropout_feature_items
from augkit.plugins.graph.functional.masking import (
    FILL_MODES,
    MASK_MODES,
    mask_feature,
    mask_feature_items,
    mask_keep_items,
)
from augkit.plugins.graph.functional.rewiring import rewire_random, rewire_random_bipartite
from augkit.plugins.graph.functional.sampling import (
    SAMPLING_METHODS,
    csr,
    khop_distance_edges,
    random_walk_steps,
    sample_random_nodes,
    sample_subgraph_items,
    sample_subgraph_nodes,
    sample_typed_subgraph_nodes,
    target_sizes,
)
from augkit.plugins.graph.functional.shuffling import shuffle_perm, shuffle_perm_items
from augkit.plugins.graph.functional.swaps import double_edge_swap, double_edge_swap_items
from augkit.plugins.graph.functional.undirected import (
    is_symmetric,
    is_undirected_fast,
    pair_keys,
)

__all__ = [
    "BACKENDS",
    "FILL_MODES",
    "MASK_MODES",
    "SAMPLING_METHODS",
    "add_bipartite_edges",
    "add_edge_items",
    "batch_mismatch",
    "csr",
    "diffusion_matrix",
    "double_edge_swap",
    "double_edge_swap_items",
    "dropout_feature_items",
    "dropout_edge",
    "dropout_edge_items",
    "dropout_node",
    "edge_keep_items",
    "edge_keep_mask",
    "induced_edges",
    "is_symmetric",
    "is_undirected_fast",
    "khop_distance_edges",
    "mask_feature",
    "mask_feature_items",
    "mask_keep_items",
    "node_id_range",
    "node_keep_ids",
    "node_keep_items",
    "numba_disabled",
    "pair_keys",
    "ppr_push",
    "random_walk_steps",
    "relabel_mask",
    "rewire_random",
    "rewire_random_bipartite",
    "sample_random_nodes",
    "sample_subgraph_items",
    "sample_subgraph_nodes",
    "sample_typed_subgraph_nodes",
    "shuffle_perm",
    "shuffle_perm_items",
    "sparsify",
    "sparsify_entries",
    "symmetric_graphs",
    "target_sizes",
]
