"""Calls into frozen standard-library modules, after the program starts."""
import abc
import os


class Base(abc.ABC):
    @abc.abstractmethod
    def run(self):
        pass


class Impl(Base):
    def run(self):
        return os.path.join("a", "b")


for i in range(3):
    Impl().run()
    isinstance(i, Base)
