"""The streams of the graph plugin's counter draws: ``derive_seed(seed, stream)`` salts a
stream, so draws of one seed for different purposes are independent. Shared by the torch code
and the numba kernels (plain ints: no numba needed to import this module)."""

STREAM_PICK = 1  # random rewiring: which pairs move
STREAM_DEAL = 2  # random rewiring: the order in which a dense graph deals out its free pairs
STREAM_RANK = 3  # subgraph sampling: the random tie-break of the ranking (and of root choice)
STREAM_ROOT = 5  # subgraph sampling: the one root of a graph
# Random rewiring, round r: stream STREAM_PROPOSE + 2r draws a proposal's first node, the
# next one its second.
STREAM_PROPOSE = 16
STREAM_WALK_STEP = 64  # random walks: step s draws from stream STREAM_WALK_STEP + s

# Seeds derived from the caller's seed, for draws that must not reuse its keys.
ROOT_SEED_OFFSET = 1  # subgraph sampling draws its roots under seed + 1
NORMAL_FILL_SEED_OFFSET = 1  # feature masking's normal fill draws under seed + 1
SYMMETRY_SEED = 0x5EED5EED  # is_symmetric's fixed hash: the answer must not depend on a seed

# Self-supervised views (one stream per purpose, drawn per graph).
STREAM_ADD_EDGE = 128  # edge adding: candidate c's first node is key 2c, its second 2c + 1
STREAM_SHUFFLE = 129  # node shuffling: the random rank of every node
STREAM_FEATURE_DROP = 130  # feature dropout: the draw of every entry
STREAM_GRAPH_SEED = 131  # a whole Batch in one call: graph g's seed is (seed, stream, g)
