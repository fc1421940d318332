"""`python -m cli`: the same command line as `helpdesk`, for processes started by path to the interpreter."""

from cli.main import main

main()
