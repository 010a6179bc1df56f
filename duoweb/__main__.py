"""``python -m duoweb``: the duoweb command line."""

from duoweb.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
