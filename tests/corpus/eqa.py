# eqcode.py's first prober: its reset's code equals eqb.py's.
class SJISProber:
    def reset(self):
        self.state = 0
        return self.state
