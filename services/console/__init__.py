"""The officers' console (issue 14): server-rendered pages over the four services' APIs."""
