"""Generators that are left before they are exhausted."""


def any_big(xs):
    return any(x > 5 for x in xs)


def two():
    yield 1
    yield 2


def first_of(xs):
    return next(x for x in xs if x % 4 == 3)


def guarded():
    yield 1
    yield 2


def chained(n):
    yield from (x * 2 for x in range(n))


def run():
    hits = 0
    for i in range(10):
        hits += any_big(range(10))
    for x in two():
        break
    g = guarded()
    next(g)
    g.close()
    for i in range(3):
        hits += sum(chained(4))
    return hits, first_of(range(20))
