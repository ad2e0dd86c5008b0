import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while nbreview is still starting
    sys.exit(130)

main()
