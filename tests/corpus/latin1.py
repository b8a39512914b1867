# -*- coding: latin-1 -*-
# A latin-1 source with a non-ASCII name: compiling it runs Python code
# (the codec lookup, unicodedata's import) before the main module starts.
été = "é"


def f(x):
    return x + été


print(f("t"))
