"""Face identities: quality weights, live assignment, batch clustering and refinement, evaluation.

Temporary identities group the faces the dataflow finds (one owner's cameras) without any
training: the live assigner gives each new face an identity within seconds, and a periodic
refinement re-clusters the recent window, merging and splitting identities while keeping ids.
"""
