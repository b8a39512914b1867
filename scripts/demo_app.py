"""A small service-like program for `make demo`: it works in a loop until
killed, so ctrace-bpf can attach to it while it runs."""
import time


class Order:
    def __init__(self, qty, price):
        self.qty = qty
        self.price = price

    @property
    def total(self):
        return self.qty * self.price


def discount(total):
    if total > 100:
        return total * 0.9
    return total


def handle(n):
    orders = [Order(i % 7 + 1, 9.5) for i in range(n)]
    return sum(discount(o.total) for o in orders)


def never_called():
    return "this line shows as missed"


def main():
    print("demo app ready", flush=True)
    while True:
        handle(20)
        time.sleep(0.01)


if __name__ == "__main__":
    main()
