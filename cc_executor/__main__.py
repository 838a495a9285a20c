from cc_executor.cli import main

main()
