# Methods whose first argument is gone by the time they return, and one
# called unbound with an object of another class (asyncio's Handle._run,
# concurrent.futures' Future.result): trace decides at the call.
class A:
    def run(self):
        self = None
        return 1

    def drop(self):
        del self
        return 2

    def other(self):
        return 3


class B:
    pass


A().run()
A().drop()
A.other(B())
