# Names of every compact str kind, as callers and callees: ASCII,
# latin-1 (UCS1), BMP (UCS2) and astral (UCS4), in functions, a class, a
# method and a file name.  A caller's name is read from its frame before
# anything has encoded it to UTF-8.
import os


def f():
    return 1


def é():
    return f()


def 名前():
    return é() + 1


def 𐐀():
    return 名前() + 1


class Ünï:
    def мет(self):
        return 𐐀() + 1


def main():
    total = Ünï().мет()
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "𐐀astral.py")
    mod = {"__file__": path, "__name__": "astral"}
    with open(path, encoding="utf-8") as f:
        exec(compile(f.read(), path, "exec"), mod)
    total += mod["ç"]() + mod["名"]()
    print(total)


main()
