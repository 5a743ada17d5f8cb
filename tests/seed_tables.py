"""The worked examples of docs/concepts.md, facts 4 and 6 (the design note's 6x6 grid, M = 3,
s = 1), shared by the tests."""

# concepts fact 4: region ids for H = W = 6, M = 3, s = 1
SEED_IDS = [
    [0, 0, 0, 1, 1, 2],
    [0, 0, 0, 1, 1, 2],
    [0, 0, 0, 1, 1, 2],
    [3, 3, 3, 4, 4, 5],
    [3, 3, 3, 4, 4, 5],
    [6, 6, 6, 7, 7, 8],
]
# ... partitioned into windows and flattened (nW rows of N ids)
SEED_FLAT = [
    [0, 0, 0, 0, 0, 0, 0, 0, 0],
    [1, 1, 2, 1, 1, 2, 1, 1, 2],
    [3, 3, 3, 3, 3, 3, 6, 6, 6],
    [4, 4, 5, 4, 4, 5, 7, 7, 8],
]
# concepts fact 6: the relative position index for M = 3
SEED_INDEX = [
    [12, 11, 10, 7, 6, 5, 2, 1, 0],
    [13, 12, 11, 8, 7, 6, 3, 2, 1],
    [14, 13, 12, 9, 8, 7, 4, 3, 2],
    [17, 16, 15, 12, 11, 10, 7, 6, 5],
    [18, 17, 16, 13, 12, 11, 8, 7, 6],
    [19, 18, 17, 14, 13, 12, 9, 8, 7],
    [22, 21, 20, 17, 16, 15, 12, 11, 10],
    [23, 22, 21, 18, 17, 16, 13, 12, 11],
    [24, 23, 22, 19, 18, 17, 14, 13, 12],
]
