from automod.cli import main

raise SystemExit(main())
