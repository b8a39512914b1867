# Functions a class body calls while it runs, and a lambda it hands to
# staticmethod(): trace names each at its first call, when no class's dict
# holds it (astroid's lazy_descriptor(lambda: ...)): plain names.
class A:
    lam = staticmethod(lambda: 5)
    x = (lambda: 6)()

    def helper():
        return 7
    y = helper()

    def method(self):
        return self.lam() + self.x


print(A.lam(), A().method())
