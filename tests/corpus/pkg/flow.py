"""Generators and delegation."""


def numbers(n):
    for i in range(n):
        yield i


def doubled(n):
    for x in numbers(n):
        yield x * 2


def pipeline(n):
    yield "start"
    yield from doubled(n)
    yield from (c for c in "ab")
    yield "end"


def gen_one(): yield 1


def drain():
    got = []
    g = numbers(3)
    got.append(next(g))
    got.extend(g)
    got.extend(gen_one())
    return got
