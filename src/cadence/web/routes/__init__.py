"""The app's pages, one module per area; each module's `router` is included by `create_app` (found by name)."""
