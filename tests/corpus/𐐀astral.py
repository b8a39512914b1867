# A module whose file name is astral (UCS4): its functions call each
# other, so that its name is read from a caller's frame.
def g():
    return 2


def ç():
    return g() + 1


def 名():
    return ç() + g()
