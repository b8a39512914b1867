"""Corpus for ctrace-bpf's comparisons with python -m trace.

Every construct here is run a known number of times, single-threaded
unless a thread is the point, so the outputs are deterministic.
"""
import threading

from pkg import closing, shapes, util
from pkg.flow import drain, pipeline


class Counter:
    """A class with every kind of method."""

    limit = 3

    def __init__(self, start=0):
        self.value = start

    def bump(self, by=1):
        self.value += by
        return self.value

    @property
    def doubled(self):
        return self.value * 2

    @staticmethod
    def zero():
        return 0

    @classmethod
    def make(cls):
        return cls(cls.limit)

    def short(self): return self.value

    class Inner:
        def ping(self):
            return "pong"

    scale = lambda self, k: self.value * k


def outer(n):
    total = 0

    def inner(x):
        nonlocal total
        total += x
        return total

    for i in range(n):
        inner(i)
    return total


def make_adder(k):
    return lambda x: x + k


@util.logged
def decorated(a, b):
    return a + b


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def risky(n):
    try:
        if n % 3 == 0:
            raise ValueError(n)
        return n
    except ValueError:
        return -1
    finally:
        util.note("done")


def squares(n):
    evens = [i * i for i in range(n) if i % 2 == 0]
    total = sum(i for i in range(n))
    table = {i: str(i) for i in range(3)}
    uniq = {i % 3 for i in range(n)}
    return evens, total, table, uniq


def multiline(a,
              b,
              c):
    value = (a +
             b +
             c)
    items = [
        a,
        b,
    ]
    return value, items


def worker(results, idx):
    acc = 0
    for i in range(50):
        acc += i
    results[idx] = acc


def threads():
    results = [0] * 4
    ts = [threading.Thread(target=worker, args=(results, i))
          for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return results


def main():
    c = Counter.make()
    c.bump()
    c.bump(2)
    print(c.doubled, Counter.zero(), c.short(), c.scale(2))
    print(Counter.Inner().ping())
    print(outer(5), make_adder(2)(3), decorated(1, 2))
    print(fib(10))
    print([risky(i) for i in range(7)])
    print(squares(6))
    print(multiline(1, 2, 3))
    print(list(pipeline(4)), drain())
    with util.Managed() as m:
        m.use()
    print(shapes.area_all([shapes.Square(2), shapes.Circle(1)]))
    print(threads())
    print(closing.run())
    # enough calls for 3.13+ to specialise them, with its init shim frame
    print(sum([Counter(i).value for i in range(20)]))


if __name__ == "__main__":
    main()
