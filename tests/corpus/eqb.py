# eqcode.py's second prober: its reset's code equals eqa.py's.
class EUCJPProber:
    def reset(self):
        self.state = 0
        return self.state
