try:
    from bnviz.cli import main
except KeyboardInterrupt:  # Ctrl-C while Python imports: the one line main() says later too
    import sys

    sys.stderr.write("\nbnviz: cancelled (Ctrl-C)\n")
    raise SystemExit(130) from None

if __name__ == "__main__":
    raise SystemExit(main())
