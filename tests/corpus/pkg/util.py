import functools
notes = []


def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        notes.append(fn.__name__)
        return fn(*args, **kwargs)
    return wrapper


def note(msg): notes.append(msg)


class Managed:
    def __enter__(self):
        note("enter")
        return self

    def __exit__(self, *exc):
        note("exit")
        return False

    def use(self):
        return len(notes)
