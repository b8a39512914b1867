import math


class Shape:
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
