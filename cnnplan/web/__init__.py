"""`cnnplan serve`: a local web page for interactive planning (needs the `web` extra:
Starlette and uvicorn). Nothing here is imported until the command runs."""
