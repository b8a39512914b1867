# A class body beside a method of the class's own name (SQLAlchemy's
# _repr_params): the body is listed as K, not K.K.
class Base:
    pass


class K(Base):
    def K(self, a):
        return a
