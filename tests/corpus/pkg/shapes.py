import math


class Shape:
    kinds = []

    # implicitly a staticmethod and a classmethod: trace names them plainly
    def __new__(cls, *args):
        return super().__new__(cls)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        Shape.kinds.append(cls.__name__)

    def area(self):
        raise NotImplementedError

    def describe(self):
        return "%s(%.2f)" % (type(self).__name__, self.area())


class Square(Shape):
    def __init__(self, side):
        self.side = side

    def area(self):
        return self.side ** 2


class Circle(Shape):
    def __init__(self, r):
        self.r = r

    def area(self):
        return math.pi * self.r ** 2


def area_all(shapes):
    return [s.describe() for s in shapes]
