import sys

from web4rl.cli import main

if __name__ == "__main__":
    sys.exit(main())
