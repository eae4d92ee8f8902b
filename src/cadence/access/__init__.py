"""Who may see what: roles decide the pages, scopes decide the rows — applied where queries are built."""
