class C:
    def m(self): return 1
@dec
def f(x):
    """doc"""
    yield from x
