from feeds.cli.cli import main

raise SystemExit(main())
