from briefing.cli import main

# The guard matters: extraction workers (forkserver) re-import the main module.
if __name__ == "__main__":
    main()
