def call(f):
    return f()
