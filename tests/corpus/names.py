"""trace names a function Class.name from the live objects, at its first
call: when exactly one class's dict holds it.  Each case below is one where
the source alone cannot tell."""
import dataclasses
import functools


def identity(f):
    return f


def wrapping(f):
    @functools.wraps(f)
    def inner(*a, **k):
        return f(*a, **k)
    return inner


def twin(f):
    def twin_func(self, *a):
        return f(self, *a)
    return twin_func


class Base:
    def hello(self):
        return 1

    @identity
    def kept(self):
        return 2

    @wrapping
    def wrapped(self):
        return 3

    def closure(self):
        return [self.hello() for _ in range(2)] and (lambda: self.hello())()

    # one code, two functions in the dict: trace refuses to guess
    @twin
    def first(self):
        return 5

    @twin
    def second(self):
        return 6

    @staticmethod
    def stat(x):
        return x

    @classmethod
    def klass(cls):
        return cls

    @property
    def prop(self):
        return 4

    def _helper(x):
        return x

    # first called while the class body runs: no class holds it yet
    early = _helper(5)


class Child(Base):
    def hello(self):
        return super().hello() + 1


def _rhs(self):
    return self


def _made(self):
    return self


Made = type("Made", (), {"call": _rhs})
Made.other = lambda self: self
made_ns = {}
exec("def made_method(self):\n    return self\n", made_ns)
Built = type("Built", (), {"m": made_ns.pop("made_method")})


@dataclasses.dataclass
class Point:
    x: int = 0
    y: int = 0


def table_func(self):
    return self


class Tabled:
    method = table_func


def main():
    b, c = Base(), Child()
    for o in (b, c):
        o.hello()
        o.kept()
        o.wrapped()
        o.closure()
        o.prop
        o.first()
        o.second()
    Base.stat(1)
    Base.klass()
    Made().call()
    Made().other()
    Built().m()
    Point(1, 2) == Point(1, 2)
    Tabled().method()
    table_func(None)


main()
